package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

const (
	// maxFileBytes bounds what Load reads; real files are a few KiB, and a
	// limit keeps a wrong path (a log file, a device) from exhausting memory.
	maxFileBytes = 8 << 20
	// maxNodes bounds the nodes the strict walk visits, aliases expanded, so
	// an alias bomb fails fast instead of expanding exponentially.
	maxNodes = 200_000
)

// LoadFile reads and loads the configuration file at path.
func LoadFile(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("config %q: %w", path, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("config %q: %w", path, err)
	}
	cfg, err := Load(data)
	if err != nil {
		return nil, fmt.Errorf("config %q: %w", path, err)
	}
	return cfg, nil
}

// Load parses, strictly checks, validates and compiles a configuration
// document. Every error it returns wraps ErrInvalid; when the problems are
// in the document, it is an Errors listing each one with its path and line.
func Load(data []byte) (*Config, error) {
	file, lines, err := Parse(data)
	if err != nil {
		return nil, err
	}
	return compile(file, lines)
}

// Parse decodes a document into the File schema strictly, without
// validating values: unknown fields, duplicate keys and values of the wrong
// shape are errors. It also returns the line of every path it saw, for
// Compile's errors. Most callers want Load.
func Parse(data []byte) (file *File, lines map[string]int, err error) {
	if len(data) > maxFileBytes {
		return nil, nil, fmt.Errorf("%w: larger than %d bytes", ErrInvalid, maxFileBytes)
	}
	// go-yaml reports malformed input through its own recovered panics; this
	// guard turns any it misses into an error, since a bad file must never
	// take the adapter down (it is reloaded while serving).
	defer func() {
		if r := recover(); r != nil {
			file, lines, err = nil, nil, fmt.Errorf("%w: yaml: %v", ErrInvalid, r)
		}
	}()

	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return &File{}, map[string]int{}, nil
		}
		return nil, nil, syntaxError(err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, nil, syntaxError(err)
		}
		return nil, nil, Errors{{Line: extra.Line, Err: errors.New("a second YAML document; the file must hold one")}}
	}

	w := &walker{lines: map[string]int{}}
	root := &doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return &File{}, w.lines, nil
		}
		root = root.Content[0]
	}
	w.walk(root, reflect.TypeFor[File](), "")
	if len(w.errs) > 0 {
		sortErrors(w.errs)
		return nil, nil, w.errs
	}
	var f File
	if err := root.Decode(&f); err != nil {
		// The walk accepted the shape, so this is a value the walk's per-field
		// decode did not foresee; report it rather than guess.
		return nil, nil, fmt.Errorf("%w: %s", ErrInvalid, err)
	}
	return &f, w.lines, nil
}

// syntaxError locates go-yaml's syntax errors, "yaml: line 4: did not find
// expected key", like every other problem.
func syntaxError(err error) error {
	rest, ok := strings.CutPrefix(err.Error(), "yaml: line ")
	if !ok {
		return fmt.Errorf("%w: %s", ErrInvalid, err)
	}
	num, msg, ok := strings.Cut(rest, ": ")
	line, convErr := strconv.Atoi(num)
	if !ok || convErr != nil {
		return fmt.Errorf("%w: %s", ErrInvalid, err)
	}
	return Errors{{Line: line, Err: fmt.Errorf("yaml: %s", msg)}}
}

// walker checks a YAML node tree against the schema's Go types, recording
// the line of every path and every field the schema does not have.
type walker struct {
	lines map[string]int
	errs  Errors
	nodes int
}

func (w *walker) fail(path string, line int, format string, args ...any) {
	w.errs = append(w.errs, &FieldError{Path: path, Line: line, Err: fmt.Errorf(format, args...)})
}

// visit counts a node and reports whether the walk may go on.
func (w *walker) visit(n *yaml.Node, path string) bool {
	w.nodes++
	if w.nodes == maxNodes {
		w.fail(path, n.Line, "document too large or too deeply aliased (more than %d nodes)", maxNodes)
	}
	return w.nodes < maxNodes
}

func (w *walker) walk(n *yaml.Node, t reflect.Type, path string) {
	if !w.visit(n, path) {
		return
	}
	// A field's line is its key's, recorded by walkStruct; list items and
	// the root get their node's.
	if _, ok := w.lines[path]; !ok {
		w.lines[path] = n.Line
	}
	if n.Kind == yaml.AliasNode {
		if n.Alias == nil {
			return
		}
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return // an empty value is the zero value, as in prometheus-adapter
	}
	switch t.Kind() {
	case reflect.Pointer:
		w.walk(n, t.Elem(), path)
	case reflect.Struct:
		w.walkStruct(n, t, path, map[string]int{})
	case reflect.Map:
		w.walkMap(n, t, path)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			w.fail(path, n.Line, "expected a list, got %s", kindName(n))
			return
		}
		for i, item := range n.Content {
			w.walk(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i))
		}
	default:
		if n.Kind != yaml.ScalarNode {
			w.fail(path, n.Line, "expected a %s, got %s", scalarName(t), kindName(n))
			return
		}
		if err := n.Decode(reflect.New(t).Interface()); err != nil {
			w.fail(path, n.Line, "cannot use %q as a %s", n.Value, scalarName(t))
		}
	}
}

func (w *walker) walkStruct(n *yaml.Node, t reflect.Type, path string, seen map[string]int) {
	if n.Kind != yaml.MappingNode {
		w.fail(path, n.Line, "expected a mapping, got %s", kindName(n))
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if isMergeKey(k) {
			w.walkMerge(v, t, path, seen)
			continue
		}
		if k.Kind != yaml.ScalarNode {
			w.fail(path, k.Line, "expected a field name, got %s", kindName(k))
			continue
		}
		fieldPath := joinPath(path, k.Value)
		if first, dup := seen[k.Value]; dup {
			w.fail(fieldPath, k.Line, "duplicate field (first at line %d)", first)
			continue
		}
		seen[k.Value] = k.Line
		w.lines[fieldPath] = k.Line
		f, ok := fieldByTag(t, k.Value)
		if !ok {
			w.errs = append(w.errs, &FieldError{Path: fieldPath, Line: k.Line, Err: ErrUnknownField})
			continue
		}
		w.walk(v, f.Type, fieldPath)
	}
}

// walkMerge checks the mappings a "<<" key merges in, as fields of the same
// struct; go-yaml decodes them that way.
func (w *walker) walkMerge(v *yaml.Node, t reflect.Type, path string, seen map[string]int) {
	if !w.visit(v, path) {
		return
	}
	if v.Kind == yaml.AliasNode && v.Alias != nil {
		v = v.Alias
	}
	switch v.Kind {
	case yaml.MappingNode:
		// Merged keys may repeat keys of the mapping, which is how merges
		// override; check them with a fresh duplicate set.
		w.walkStruct(v, t, path, map[string]int{})
	case yaml.SequenceNode:
		for _, item := range v.Content {
			w.walkMerge(item, t, path, seen)
		}
	default:
		w.fail(path, v.Line, "a merge (<<) needs a mapping, got %s", kindName(v))
	}
}

func (w *walker) walkMap(n *yaml.Node, t reflect.Type, path string) {
	if n.Kind != yaml.MappingNode {
		w.fail(path, n.Line, "expected a mapping, got %s", kindName(n))
		return
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || isMergeKey(k) {
			w.fail(path, k.Line, "expected a key, got %s", kindName(k))
			continue
		}
		keyPath := joinPath(path, k.Value)
		if first, dup := seen[k.Value]; dup {
			w.fail(keyPath, k.Line, "duplicate key (first at line %d)", first)
			continue
		}
		seen[k.Value] = k.Line
		w.lines[keyPath] = k.Line
		w.walk(v, t.Elem(), keyPath)
	}
}

func isMergeKey(k *yaml.Node) bool {
	return k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge"
}

// fieldByTag finds the struct field whose yaml tag is name. The schema is
// small, so a linear scan is clearer than a cache.
func fieldByTag(t reflect.Type, name string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if tag == name {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// joinPath appends a key to a path: ".key" for identifiers, `["key"]` for
// anything else so paths stay unambiguous.
func joinPath(path, key string) string {
	simple := key != ""
	for _, r := range key {
		if !(r == '_' || r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			simple = false
			break
		}
	}
	if !simple {
		return path + "[" + strconv.Quote(key) + "]"
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("%q", n.Value)
	case yaml.AliasNode:
		return "an alias"
	default:
		return "a document"
	}
}

func scalarName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Bool:
		return "boolean"
	case reflect.String:
		return "string"
	default:
		return t.Kind().String()
	}
}

func sortErrors(es Errors) {
	sort.SliceStable(es, func(i, j int) bool { return es[i].Line < es[j].Line })
}
