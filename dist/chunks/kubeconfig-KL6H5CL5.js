import{createRequire as __acrCreateRequire}from"node:module";const require=__acrCreateRequire(import.meta.url);
import{a,b,c,d,e}from"./chunk-2W4J4H3Y.js";import"./chunk-M64IJI3L.js";import"./chunk-ROVRO2Z6.js";export{c as kubeconfigCredentials,a as locateKubeconfig,d as maskKubeconfig,b as readKubeconfig,e as resolveKubeconfig};
//# sourceMappingURL=kubeconfig-KL6H5CL5.js.map
