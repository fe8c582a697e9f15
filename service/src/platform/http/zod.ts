import { extendZodWithOpenApi } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';

// `.openapi()` on every zod schema. Modules that declare schemas take `z` from here, so the
// extension is in place before any of them loads, whatever imports them first.
extendZodWithOpenApi(z);

export { z };
