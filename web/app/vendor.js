// The vendor modules, by the versioned paths the server embeds them under
// (cmake/dashboard.cmake fills in the versions from web/node_modules). htm's
// standalone build bundles preact, its hooks and htm in one module, so no
// bare "preact" specifier needs resolving (an import map would be inline
// script, which the Content-Security-Policy forbids).
export {
  html, render, Component, createContext, useState, useReducer, useEffect, useLayoutEffect,
  useRef, useMemo, useCallback, useContext,
} from '/vendor/htm@@HTM_VERSION@/preact/standalone.module.js';
export { default as uPlot } from '/vendor/uplot@@UPLOT_VERSION@/dist/uPlot.esm.js';
