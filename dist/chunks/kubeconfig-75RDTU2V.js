const require=process.getBuiltinModule('node:module').createRequire(import.meta.url);
import{a,b,c,d,e}from"./chunk-YVXHDGHT.js";import"./chunk-LGSX4AQK.js";import"./chunk-WTDU6PAA.js";export{c as kubeconfigCredentials,a as locateKubeconfig,d as maskKubeconfig,b as readKubeconfig,e as resolveKubeconfig};
