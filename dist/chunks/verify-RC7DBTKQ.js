import{createRequire as __acrCreateRequire}from"node:module";const require=__acrCreateRequire(import.meta.url);
import{a,b,c,d}from"./chunk-U3YYGOKJ.js";import"./chunk-ARIGQ665.js";import"./chunk-LVIEM2KN.js";import"./chunk-FWHYL7OX.js";import"./chunk-STDDTEGE.js";import"./chunk-5AXF3NM5.js";import"./chunk-BTHSZAVL.js";import"./chunk-MJJBNXZH.js";import"./chunk-RD4WQNZG.js";import"./chunk-CHYDWYE2.js";import"./chunk-RBQ7FNJZ.js";import"./chunk-ROVRO2Z6.js";export{c as PROPAGATION,b as foldVerdicts,a as verifyImages,d as verifyImagesWithin};
//# sourceMappingURL=verify-RC7DBTKQ.js.map
