package runtime

// ParamsRead lists the names a run of prompt can read from its parameters:
// the roots referenced by its input and system prompt, by the earlier
// prompts it chains on (run with the same parameters, recursively) and,
// when it remembers the chat context, by the inputs of the earlier prompts
// of the same model that are resent with it. The suite loader uses it to
// refuse a parameter nothing reads (a typo would otherwise be ignored).
// Unknown prompts read nothing.
func (c *Config) ParamsRead(prompt string) map[string]bool {
	p, ok := c.Prompt(prompt)
	out := map[string]bool{}
	if !ok {
		return out
	}
	meta := c.Metadata()
	prompts := c.Prompts()
	done := map[int]bool{}
	var visit func(p *Prompt)
	visit = func(p *Prompt) {
		if done[p.Index] {
			return
		}
		done[p.Index] = true
		model := modelOf(&meta, p)
		settings := map[string]any{}
		for k, x := range meta.Models[model] {
			settings[k] = x
		}
		for k, x := range p.Settings {
			settings[k] = x
		}
		roots := map[string]bool{}
		for _, ref := range promptRefs(p, settings) {
			out[ref.Root] = true
			roots[ref.Root] = true
		}
		for _, prev := range prompts[:p.Index] {
			if roots[prev.Name] {
				delete(roots, prev.Name) // the first prompt of a name, as runDeps
				visit(prev)
			}
		}
		if p.RememberChatContext {
			for _, prev := range prompts[:p.Index] {
				if modelOf(&meta, prev) == model {
					for _, ref := range TemplateRefs(inputTemplate(prev)) {
						out[ref.Root] = true
					}
				}
			}
		}
	}
	visit(p)
	return out
}
