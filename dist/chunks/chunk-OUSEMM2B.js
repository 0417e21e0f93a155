import{createRequire as __acrCreateRequire}from"node:module";const require=__acrCreateRequire(import.meta.url);
import{c as s}from"./chunk-OW2L3D4V.js";async function a(e,t){let r=await t.azure(e),i=await r.registries.resolve(e.registry);return{clients:r,registry:i,tenantId:e.registry.tenantId}}var g=e=>e.repositories.find(t=>!t.includes("*"));function p(e,t,r){return async(i,o)=>{let n=await s(e,i,o,{repository:r,trace:c=>t.runner.debug(c)});return n.ok?void 0:n.reason}}export{a,g as b,p as c};
//# sourceMappingURL=chunk-OUSEMM2B.js.map
