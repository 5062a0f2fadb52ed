/** Absolute path of the dashboard's built files (index.html, app.js, app.css). */
export declare const dashboardRoot: string;
