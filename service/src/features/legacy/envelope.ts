import { z } from '../../platform/http/zod.js';

/**
 * The predecessor's success body, kept for the existing web client: always HTTP 200
 * (`ResponseEntity.ok`), with the `status` and `message` its service put in the body.
 */
export function envelope<T>(data: T, message: string, status: 'OK' | 'CREATED' = 'OK') {
  return { message, status, data };
}

export const envelopeOf = <T extends z.ZodType>(data: T, name: string) =>
  z.object({ message: z.string(), status: z.enum(['OK', 'CREATED']), data }).openapi(name);
