import{createRequire as __acrCreateRequire}from"node:module";const require=__acrCreateRequire(import.meta.url);
import{a,b,c,d}from"./chunk-44RJJ7ZI.js";import"./chunk-GEW3FGPG.js";import"./chunk-LVIEM2KN.js";import"./chunk-OW2L3D4V.js";import"./chunk-STDDTEGE.js";import"./chunk-MK434X4L.js";import"./chunk-34VYFYSM.js";import"./chunk-XDYO5CXQ.js";import"./chunk-CHYDWYE2.js";import"./chunk-RBQ7FNJZ.js";import"./chunk-ROVRO2Z6.js";export{c as PROPAGATION,b as foldVerdicts,a as verifyImages,d as verifyImagesWithin};
//# sourceMappingURL=verify-K3OWYJS4.js.map
