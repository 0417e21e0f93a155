import{createRequire as __acrCreateRequire}from'node:module';const require=__acrCreateRequire(import.meta.url);
import{a as t}from"./chunk-35LQWSWT.js";import"./chunk-VTENPVML.js";async function r(e,s){throw new t("auth-method",`'${e.authMethod}' on AKS is not available in this build`,"pull-secret")}export{r as runAks};
