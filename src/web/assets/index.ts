/** The console's page, style sheet and scripts, served by the core itself (no CDN, no build step). */
export { CONSOLE_HTML, LOGIN_HTML } from './pages.js';
export { CONSOLE_CSS } from './style.js';
export { CONSOLE_JS, LOGIN_JS } from './scripts.js';
