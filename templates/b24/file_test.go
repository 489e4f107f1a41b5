package b24

import (
	"encoding/json"
	"testing"
)

func TestFileShapes(t *testing.T) {
	content := []byte("hello")
	for _, tc := range []struct {
		name string
		v    any
		want string
	}{
		{"pair", FilePair{Name: "a.txt", Content: content}, `["a.txt","aGVsbG8="]`},
		{"pairs", []FilePair{{"a.txt", content}, {"b.txt", nil}}, `[["a.txt","aGVsbG8="],["b.txt",""]]`},
		{"fileData", FileData{Name: "logo.png", Content: content}, `{"fileData":["logo.png","aGVsbG8="]}`},
		{"base64", FileBase64(content), `"aGVsbG8="`},
		{"in params", map[string]any{"fields": map[string]any{"LOGO": FileData{"l.png", content}}}, `{"fields":{"LOGO":{"fileData":["l.png","aGVsbG8="]}}}`},
	} {
		got, err := json.Marshal(tc.v)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if string(got) != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
	form, err := MarshalForm(map[string]any{"file": FilePair{"a.txt", content}})
	if err != nil {
		t.Fatal(err)
	}
	if want := "file%5B0%5D=a.txt&file%5B1%5D=aGVsbG8%3D"; form != want {
		t.Errorf("in a batch command: %s, want %s", form, want)
	}
}
