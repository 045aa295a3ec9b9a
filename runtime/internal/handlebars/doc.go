// Package handlebars is github.com/aymerick/raymond v2.0.2 (MIT, see
// LICENSE) with the changes aieval needs to render prompts as the AIConfig
// Python SDK does:
//   - escaping with the SDK's table (' as &#x27;, ` as &#x60;; escape.go);
//   - .length of lists and strings (eval.go evalField, object.go);
//   - Object, an ordered object that {{#each}} walks in key order
//     (object.go, helper.go eachHelper, utils.go isTrueValue).
//
// It still uses raymond's lexer, parser and AST packages.
package handlebars
