import{createRequire as __acrCreateRequire}from'node:module';const require=__acrCreateRequire(import.meta.url);
import{a as t}from"./chunk-35LQWSWT.js";import"./chunk-K4BPDKDP.js";var r=async()=>{throw new t("credential-type","'token' is not available in this build","basic")},e=r;export{e as default};
