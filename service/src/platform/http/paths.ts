/** Where the versioned API lives. */
export const API_PREFIX = '/api/v1';
