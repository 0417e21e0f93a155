import{createRequire as __acrCreateRequire}from'node:module';const require=__acrCreateRequire(import.meta.url);
import{c as t}from"./chunk-K4BPDKDP.js";var a=t(e=>{"use strict";Object.defineProperty(e,"__esModule",{value:!0});e.state=void 0;e.state={operationRequestMap:new WeakMap}});export{a};
