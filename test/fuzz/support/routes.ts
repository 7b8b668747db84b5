/**
 * The routes the app serves, read from Express's router rather than listed by hand, so the
 * any-route fuzz reaches every capability's routes, those added later included.
 */
import type { Express } from 'express';

/** The parts of an Express 5 router layer this reads. */
interface Layer {
  route?: { path: string };
  handle?: { stack?: Layer[] };
  rawPath?: string;
  slash?: boolean;
}

/** Every route path, its parameters as `{0}`, `{1}`, … in order: `/v1/orders/{0}/restart`. */
export function routeTemplates(app: Express): string[] {
  const walk = (stack: Layer[], prefix: string): string[] =>
    stack.flatMap((layer) => {
      if (layer.route) return [prefix + layer.route.path];
      if (layer.handle?.stack) return walk(layer.handle.stack, prefix + (layer.slash || !layer.rawPath ? '' : layer.rawPath));
      return [];
    });
  const router = (app as unknown as { router: { stack: Layer[] } }).router;
  const paths = walk(router.stack, '').filter((p) => typeof p === 'string');
  return [...new Set(paths.map((p) => numberParameters(p)))].sort();
}

function numberParameters(path: string): string {
  let index = 0;
  return path.replace(/:[A-Za-z_][A-Za-z0-9_]*/g, () => `{${index++}}`);
}

/** The template with its parameters filled from `segments`, in order (the last one repeats). */
export function fillTemplate(template: string, segments: readonly string[]): string {
  return template.replace(/\{(\d+)\}/g, (_, i: string) => segments[Math.min(Number(i), segments.length - 1)] ?? '');
}
