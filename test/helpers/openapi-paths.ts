// OpenAPI path templates as regular expressions, shared by the API doubles (GitHub's and GitLab's): a request's
// path is matched to the template of its description, the most literal template winning, so that
// `/issues/comments/7` is not taken for `/issues/{issue_number}`.

export interface PathTemplate<Item> {
  template: string;
  regex: RegExp;
  /** The names of the template's `{parameters}`, in order. */
  names: string[];
  /** How many segments are literal: the tie-break between templates that both match. */
  literals: number;
  item: Item;
}

export function compilePathTemplates<Item>(paths: Record<string, Item>): PathTemplate<Item>[] {
  return Object.entries(paths).map(([template, item]) => {
    const names: string[] = [];
    const source = template.replace(/\{([^}]+)\}|[^{]+/g, (part, name?: string) => {
      if (name === undefined) return part.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
      names.push(name);
      return '([^/]+)';
    });
    const literals = template.split('/').filter((segment) => segment && !segment.includes('{')).length;
    return { template, regex: new RegExp(`^${source}$`), names, literals, item };
  });
}
