package b24

import (
	"encoding/base64"
	"encoding/json"
)

// Bitrix24 takes new files inside the JSON request, Base64-encoded, but not
// in one shape: each method's page (and the docs' "How to Upload Files")
// says which one a parameter or field expects. Generated file parameters
// are typed any so that each shape fits; these types spell them.

// FilePair is a file as a ["name", "Base64"] pair: crm.item.add's file
// fields, user.add's PERSONAL_PHOTO, bizproc templates, lists and entity
// items; a []FilePair for multiple-file fields.
type FilePair struct {
	Name    string
	Content []byte
}

// MarshalJSON encodes ["name", "Base64 content"].
func (f FilePair) MarshalJSON() ([]byte, error) {
	return json.Marshal([2]string{f.Name, base64.StdEncoding.EncodeToString(f.Content)})
}

// FileData is a file as {"fileData": ["name", "Base64"]}: the file fields
// of crm.lead/deal/contact/company and catalog product pictures.
type FileData struct {
	Name    string
	Content []byte
}

// MarshalJSON encodes {"fileData": ["name", "Base64 content"]}.
func (f FileData) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]FilePair{"fileData": FilePair(f)})
}

// FileBase64 is a file's content alone, as a Base64 string: the file of
// documentgenerator templates, disk's fileContent. (A []byte encodes the
// same; the name says what the parameter means.)
type FileBase64 []byte

// MarshalJSON encodes the content as a Base64 string.
func (f FileBase64) MarshalJSON() ([]byte, error) {
	return json.Marshal(base64.StdEncoding.EncodeToString(f))
}
