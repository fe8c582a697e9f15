/**
 * The profile image of a member who set none, served by the API itself
 * (`GET /api/v1/files/defaults/profile.svg`): a head and shoulders on a light
 * circle. It is never in the bucket, so no replacement can delete it. SVG keeps
 * it a few hundred bytes of source, and the legacy client's `next/image` shows
 * an `.svg` URL as it is, from any host (its optimiser, which allows only the
 * predecessor's S3 host, is bypassed for SVG).
 */
export const DEFAULT_PROFILE_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 96 96" width="96" height="96">
<circle cx="48" cy="48" r="48" fill="#e6eef8"/>
<circle cx="48" cy="38" r="17" fill="#a9b8ca"/>
<path d="M16 84c4-17 17-26 32-26s28 9 32 26a48 48 0 0 1-64 0z" fill="#a9b8ca"/>
</svg>
`;
