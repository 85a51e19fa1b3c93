/**
 * The web UI's pages other than its main one (`/`): the edge answers each with the UI's
 * `index.html`, and the page shows the view its path names. One list, read by both.
 */
export const uiPages = {
  /** The operator dashboard, for administrators. */
  dashboard: '/dashboard',
} as const;

/** True for a path the web UI answers with its page. */
export function isUiPage(path: string): boolean {
  return Object.values<string>(uiPages).includes(path);
}
