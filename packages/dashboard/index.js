// The built dashboard's folder, for the server to serve (npm run build writes it).
import { fileURLToPath } from 'node:url';

/** Absolute path of the dashboard's built files (index.html, app.js, app.css). */
export const dashboardRoot = fileURLToPath(new URL('./dist/', import.meta.url));
