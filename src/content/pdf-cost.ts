/**
 * The operators each page of a PDF expands to: its content streams, and through `Do`, `scn`/`SCN`, `Tf` and
 * `gs` the form XObjects, tiling patterns, Type 3 glyph procedures and soft-mask groups they draw, memoised
 * per form and resources; a cycle or a nesting over the budget stops it.
 * @module
 */
import {
  type Dict,
  EI,
  indexOf,
  isDict,
  isRef,
  Lexer,
  type ObjDef,
  type PdfBudget,
  Stop,
  type Value,
  WS,
} from './pdf-syntax.js';

/** What one content stream does: how many operators, and which resources it invokes by name. */
export interface ContentUse {
  ops: number;
  uses: { category: '/XObject' | '/Font' | '/Pattern' | '/ExtGState'; name: string }[];
}

export class CostModel {
  private readonly contentMemo = new Map<Uint8Array, ContentUse>();
  private readonly formMemo = new Map<string, number>();
  private readonly active = new Set<string>();

  constructor(
    readonly defs: Map<number, ObjDef[]>,
    readonly decoded: Map<ObjDef, Uint8Array | null>,
    readonly budget: PdfBudget,
  ) {}

  /** The definitions a value stands for (a reference resolves to every definition of its number). */
  private resolveAll(v: Value | undefined): { value: Value; def: ObjDef | null }[] {
    if (v === undefined) return [];
    if (!isRef(v)) return [{ value: v, def: null }];
    return (this.defs.get(v.ref) ?? []).map((d) => ({ value: d.value, def: d }));
  }

  private resolveDict(v: Value | undefined): Dict | null {
    for (const r of this.resolveAll(v)) if (isDict(r.value)) return r.value;
    return null;
  }

  pageCost(page: Dict): number {
    // Resources and contents may be inherited from the page tree.
    let resources = page.get('/Resources');
    let node: Dict | null = page;
    const seen = new Set<Dict>();
    while (resources === undefined && node && !seen.has(node) && seen.size < 64) {
      seen.add(node);
      node = this.resolveDict(node.get('/Parent'));
      resources = node?.get('/Resources');
    }
    const res = this.resolveDict(resources);
    const contents = page.get('/Contents');
    const parts = Array.isArray(contents) ? contents.slice(0, 1000) : contents === undefined ? [] : [contents];
    let cost = 0;
    for (const part of parts) {
      for (const r of this.resolveAll(part)) {
        if (Array.isArray(r.value)) {
          for (const inner of r.value.slice(0, 1000))
            for (const x of this.resolveAll(inner)) cost += this.streamCost(x.def, res, 0);
        } else cost += this.streamCost(r.def, res, 0);
      }
      if (cost > this.budget.maxOperators) return Number.POSITIVE_INFINITY;
    }
    return cost;
  }

  private use(data: Uint8Array): ContentUse {
    const memo = this.contentMemo.get(data);
    if (memo) return memo;
    const use: ContentUse = { ops: 0, uses: [] };
    const lex = new Lexer(data, 0, data.length, { tokens: 0, max: Number.POSITIVE_INFINITY });
    let lastName: string | null = null;
    for (;;) {
      const t = lex.next();
      if (t === null) break;
      if (typeof t === 'number' || t === '(' || t === '[' || t === ']' || t === '<<' || t === '>>') continue;
      if (t.startsWith('/')) {
        lastName = t;
        continue;
      }
      if (t === 'true' || t === 'false' || t === 'null') continue;
      use.ops++;
      if (t === 'ID') {
        // Inline image data runs to the next whitespace-delimited EI.
        let p = lex.pos + 1;
        for (;;) {
          p = indexOf(data, EI, p);
          if (p < 0 || ((WS[data[p - 1] ?? 32] ?? 0) && (p + 2 >= data.length || WS[data[p + 2]!]))) break;
          p += 2;
        }
        lex.pos = p < 0 ? data.length : p + 2;
      } else if (lastName && use.uses.length < 10_000) {
        if (t === 'Do') use.uses.push({ category: '/XObject', name: lastName });
        else if (t === 'Tf') use.uses.push({ category: '/Font', name: lastName });
        else if (t === 'scn' || t === 'SCN') use.uses.push({ category: '/Pattern', name: lastName });
        else if (t === 'gs') use.uses.push({ category: '/ExtGState', name: lastName });
      }
      lastName = null;
    }
    this.contentMemo.set(data, use);
    return use;
  }

  /** Operators a content stream expands to, with `res` as its resources. */
  private streamCost(def: ObjDef | null, res: Dict | null, depth: number): number {
    if (!def?.stream) return 0;
    const data = this.decoded.get(def) ?? null;
    if (!data) return 0;
    const use = this.use(data);
    let cost = use.ops;
    for (const u of use.uses) {
      const category = res ? this.resolveDict(res.get(u.category)) : null;
      const target = category?.get(u.name);
      for (const r of this.resolveAll(target)) {
        cost += this.resourceCost(u.category, r.value, r.def, res, depth + 1);
        if (cost > this.budget.maxOperators) return Number.POSITIVE_INFINITY;
      }
    }
    return cost;
  }

  private resourceCost(
    category: string,
    value: Value,
    def: ObjDef | null,
    parentRes: Dict | null,
    depth: number,
  ): number {
    if (category === '/ExtGState') {
      // A soft mask draws its group form.
      const gs = isDict(value) ? value : null;
      const smask = this.resolveDict(gs?.get('/SMask'));
      let cost = 0;
      for (const r of this.resolveAll(smask?.get('/G'))) cost += this.formCost(r.def, parentRes, depth);
      return cost;
    }
    if (category === '/Font') {
      const font = isDict(value) ? value : null;
      if (font?.get('/Subtype') !== '/Type3') return 0;
      const procs = this.resolveDict(font.get('/CharProcs'));
      const res = this.resolveDict(font.get('/Resources')) ?? parentRes;
      let cost = 0;
      for (const proc of [...(procs?.values() ?? [])].slice(0, 256)) {
        for (const r of this.resolveAll(proc)) cost += this.formCost(r.def, res, depth, true);
        if (cost > this.budget.maxOperators) return Number.POSITIVE_INFINITY;
      }
      return cost;
    }
    if (category === '/XObject' || category === '/Pattern') {
      const dict = isDict(value) ? value : null;
      if (category === '/XObject' && dict?.get('/Subtype') !== '/Form') return 0;
      return this.formCost(def, parentRes, depth);
    }
    return 0;
  }

  /** A form-like stream (form XObject, tiling pattern, glyph procedure): its own resources, else the caller's. */
  private formCost(def: ObjDef | null, parentRes: Dict | null, depth: number, keepParent = false): number {
    if (!def?.stream) return 0;
    if (depth > this.budget.maxXObjectDepth) {
      throw new Stop({ kind: 'budget', what: `forms nested deeper than ${this.budget.maxXObjectDepth}` });
    }
    const dict = isDict(def.value) ? def.value : null;
    const own = keepParent ? null : this.resolveDict(dict?.get('/Resources'));
    const res = own ?? parentRes;
    const key = `${this.idOf(def)}|${own ? 'own' : this.idOfRes(res)}`;
    const memo = this.formMemo.get(key);
    if (memo !== undefined) return memo;
    if (this.active.has(key)) throw new Stop({ kind: 'budget', what: 'a form draws itself (cycle)' });
    this.active.add(key);
    const cost = this.streamCost(def, res, depth);
    this.active.delete(key);
    this.formMemo.set(key, cost);
    return cost;
  }

  private ids = new Map<object, number>();
  private idOf(o: object): number {
    let id = this.ids.get(o);
    if (id === undefined) {
      id = this.ids.size;
      this.ids.set(o, id);
    }
    return id;
  }
  private idOfRes(res: Dict | null): number {
    return res ? this.idOf(res) : -1;
  }
}
