import{createRequire as __acrCreateRequire}from'node:module';const require=__acrCreateRequire(import.meta.url);
import{b as a,c as b}from"./chunk-JAZXZHH4.js";import"./chunk-EYU5T4WM.js";import"./chunk-PJVLRVD3.js";import"./chunk-JGQATVNZ.js";import"./chunk-35LQWSWT.js";import"./chunk-K4BPDKDP.js";export{a as createSession,b as signInError};
