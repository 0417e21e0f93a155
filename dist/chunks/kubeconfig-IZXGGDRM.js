import{createRequire as __acrCreateRequire}from"node:module";const require=__acrCreateRequire(import.meta.url);
import{a,b,c,d,e}from"./chunk-Y2EAIIR7.js";import"./chunk-RD4WQNZG.js";import"./chunk-ROVRO2Z6.js";export{c as kubeconfigCredentials,a as locateKubeconfig,d as maskKubeconfig,b as readKubeconfig,e as resolveKubeconfig};
//# sourceMappingURL=kubeconfig-IZXGGDRM.js.map
