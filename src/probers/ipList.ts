/**
 * ip-list: sends nothing. One entry of an address list (the spec's host: an address or CIDR range,
 * already syntax-checked when the plan read the file) must not overlap any address of the lists in
 * `disjointFrom`. Commversion's case: a banned customer's IP must never be one of the platform's
 * or the office's own addresses, or the ban would block the company itself.
 */
import type { IpListOptions } from '../kinds/ipList.js';
import type { Prober } from '../types.js';
import { parseCidr, type Cidr } from '../util/ip.js';
import { because } from '../reasons.js';

function overlaps(a: Cidr, b: Cidr): boolean {
  return a.family === b.family && a.base < b.base + b.size && b.base < a.base + a.size;
}

export const ipList: Prober<IpListOptions> = async (spec) => {
  let entry: Cidr;
  try {
    entry = parseCidr(spec.host);
  } catch (err) {
    return { ...because('IP_LIST_SYNTAX'), detail: (err as Error).message };
  }
  const refs = spec.options.disjointFrom ?? [];
  const compared: string[] = [];
  const unset: string[] = [];
  const hits: { param: string; file: string; line: number; value: string }[] = [];
  for (const ref of refs) {
    if ('unset' in ref) {
      unset.push(ref.param);
      continue;
    }
    compared.push(ref.param);
    for (const e of ref.entries) if (overlaps(entry, parseCidr(e.value))) hits.push({ param: ref.param, file: ref.file, line: e.line, value: e.value });
  }
  const data = { compared, ...(unset.length ? { notGiven: unset } : {}), ...(hits.length ? { overlaps: hits } : {}) };
  if (hits.length) {
    return {
      ...because('LIST_OVERLAP'),
      detail: `${spec.host} overlaps ${hits.map((h) => `${h.value} in --${h.param} (${h.file}:${h.line})`).join(', ')}: blocking it would also block your own addresses`,
      data,
    };
  }
  if (compared.length === 0) {
    return { ...because('NOTHING_TO_COMPARE'), detail: `valid entry; not compared: ${unset.map((u) => `--${u}`).join(', ')} not given`, data };
  }
  return {
    ...because('NO_OVERLAP'),
    detail: `valid, and outside ${compared.map((c) => `--${c}`).join(', ')}${unset.length ? ` (not compared: ${unset.map((u) => `--${u}`).join(', ')} not given)` : ''}`,
    data,
  };
};
