package config

import (
	"fmt"
	"text/template"
	"text/template/parse"
)

// checkRanges rejects a range that does not iterate over template data.
// text/template can range over an integer, and a loop that writes nothing
// is not stopped by the output limit: a constant like <<range 1e12>> would
// hang a load (or a hot reload). The data of every template here is small
// (a few labels), so ranging over a field of it is always bounded.
//
// It also rejects templates that invoke themselves, directly or through
// others: recursion inside a range multiplies at every level.
func checkRanges(t *template.Template) error {
	calls := map[string][]string{}
	for _, tt := range t.Templates() {
		if tt.Tree == nil {
			continue
		}
		if err := checkRangeNode(tt.Tree.Root); err != nil {
			return err
		}
		calls[tt.Name()] = invoked(tt.Tree.Root, nil)
	}
	const (
		unvisited = iota
		visiting
		done
	)
	state := map[string]int{}
	var visit func(name string) error
	visit = func(name string) error {
		switch state[name] {
		case visiting:
			return fmt.Errorf("template %q invokes itself", name)
		case done:
			return nil
		}
		state[name] = visiting
		for _, callee := range calls[name] {
			if err := visit(callee); err != nil {
				return err
			}
		}
		state[name] = done
		return nil
	}
	for name := range calls {
		if err := visit(name); err != nil {
			return err
		}
	}
	return nil
}

// invoked appends the names of the templates a node invokes.
func invoked(n parse.Node, out []string) []string {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return out
		}
		for _, c := range n.Nodes {
			out = invoked(c, out)
		}
	case *parse.TemplateNode:
		out = append(out, n.Name)
	case *parse.RangeNode:
		out = invoked(n.List, invoked(n.ElseList, out))
	case *parse.IfNode:
		out = invoked(n.List, invoked(n.ElseList, out))
	case *parse.WithNode:
		out = invoked(n.List, invoked(n.ElseList, out))
	}
	return out
}

func checkRangeNode(n parse.Node) error {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return nil
		}
		for _, c := range n.Nodes {
			if err := checkRangeNode(c); err != nil {
				return err
			}
		}
	case *parse.RangeNode:
		if !overData(n.Pipe) {
			return fmt.Errorf("range over %s: only fields of the template data (like .GroupBySlice) can be ranged over", n.Pipe)
		}
		return checkBranch(&n.BranchNode)
	case *parse.IfNode:
		return checkBranch(&n.BranchNode)
	case *parse.WithNode:
		return checkBranch(&n.BranchNode)
	}
	return nil
}

func checkBranch(b *parse.BranchNode) error {
	if err := checkRangeNode(b.List); err != nil {
		return err
	}
	if b.ElseList != nil {
		return checkRangeNode(b.ElseList)
	}
	return nil
}

// overData reports whether a range pipeline is a field of the data: .X,
// $.X or .X.Y, with no function, number, bare variable or sub-pipeline
// that could produce an integer.
func overData(p *parse.PipeNode) bool {
	if p == nil || len(p.Cmds) != 1 || len(p.Cmds[0].Args) != 1 {
		return false
	}
	switch a := p.Cmds[0].Args[0].(type) {
	case *parse.FieldNode:
		return true
	case *parse.VariableNode:
		return len(a.Ident) > 1 && a.Ident[0] == "$"
	default:
		return false
	}
}
