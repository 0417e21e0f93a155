const require=process.getBuiltinModule('node:module').createRequire(import.meta.url);
import{c as t}from"./chunk-YQGYO64K.js";var a=t(e=>{"use strict";Object.defineProperty(e,"__esModule",{value:!0});e.state=void 0;e.state={operationRequestMap:new WeakMap}});export{a};
