import{createRequire as __acrCreateRequire}from'node:module';const require=__acrCreateRequire(import.meta.url);
import{a as r}from"./chunk-35LQWSWT.js";import"./chunk-K4BPDKDP.js";var t=async()=>{throw new r("credential-type","'service-principal' is not available in this build","basic")},o=t;export{o as default};
