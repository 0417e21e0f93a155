import{createRequire as __acrCreateRequire}from"node:module";const require=__acrCreateRequire(import.meta.url);
import{d as a,e as b,f as c,g as d,h as e,i as f,j as g,k as h}from"./chunk-L262Q7TJ.js";import"./chunk-RD4WQNZG.js";import"./chunk-ROVRO2Z6.js";export{c as kubeconfigCredentials,a as locateKubeconfig,e as maskKubeconfig,b as readKubeconfig,d as readTokenFile,g as requireHttps,h as resolveKubeconfig,f as serverOrigin};
//# sourceMappingURL=kubeconfig-I7EEEP73.js.map
