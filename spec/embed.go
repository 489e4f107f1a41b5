package spec

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
)

// embedded is the spec of the pinned docs snapshot, regenerated with
// `make extract` and committed so the generator runs without the docs.
//
//go:embed bitrix24.json
var embedded []byte

// Embedded returns a fresh copy of the committed spec.
func Embedded() (*Spec, error) {
	s, err := Parse(embedded)
	if err != nil {
		return nil, fmt.Errorf("embedded spec/bitrix24.json: %w", err)
	}
	return s, nil
}

// Load reads a spec JSON file.
func Load(path string) (*Spec, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	s, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// Parse decodes a spec, refusing unknown fields so that a spec written by a
// newer b24gen is not silently half-read.
func Parse(data []byte) (*Spec, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var s Spec
	if err := dec.Decode(&s); err != nil {
		return nil, err
	}
	return &s, nil
}

// Marshal encodes the spec in its committed form: indented, HTML characters
// left unescaped, a final newline. The output depends only on the spec's
// content, so the committed file changes only when the docs do.
func (s *Spec) Marshal() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", " ")
	if err := enc.Encode(s); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
