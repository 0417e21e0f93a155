import{createRequire as __acrCreateRequire}from"node:module";const require=__acrCreateRequire(import.meta.url);
import{d as a,e as b,f as c,g as d,h as e,i as f,j as g,k as h}from"./chunk-KHPWOJWF.js";import"./chunk-XDYO5CXQ.js";import"./chunk-ROVRO2Z6.js";export{c as kubeconfigCredentials,a as locateKubeconfig,e as maskKubeconfig,b as readKubeconfig,d as readTokenFile,g as requireHttps,h as resolveKubeconfig,f as serverOrigin};
//# sourceMappingURL=kubeconfig-OPYP6BQN.js.map
