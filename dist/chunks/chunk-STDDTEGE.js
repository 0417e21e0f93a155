import{createRequire as __acrCreateRequire}from"node:module";const require=__acrCreateRequire(import.meta.url);
function r(e){let n=e?.split(".")[1];if(n)try{let t=JSON.parse(Buffer.from(n,"base64url").toString("utf8"));return t&&typeof t=="object"?t:void 0}catch{return}}function i(e){let n=r(e)?.exp;return typeof n=="number"?new Date(n*1e3).toISOString():void 0}export{r as a,i as b};
//# sourceMappingURL=chunk-STDDTEGE.js.map
