package b24

// Multifield is one value of a CRM multifield (crm_multifield in the docs'
// CRM data types): a phone number, an e-mail address, a website, a
// messenger account or a link of a lead, contact or company. Every entity
// with PHONE, EMAIL, WEB, IM or LINK holds a []Multifield there.
//
// To add a value, leave ID zero. To change one, send its ID with the new
// VALUE. To remove one, send its ID with Delete set (crm.contact.update,
// "Delete a Single Value from a Multiple Field").
type Multifield struct {
	ID        Int    `json:"ID,omitzero"`         // identifier of the value; zero for a new one
	Value     String `json:"VALUE"`               // "+1 555 0100", "info@example.com"
	ValueType String `json:"VALUE_TYPE,omitzero"` // WORK, MOBILE, HOME, OTHER, …
	TypeID    String `json:"TYPE_ID,omitzero"`    // PHONE, EMAIL, WEB, IM or LINK
	Delete    Bool   `json:"DELETE,omitzero"`     // sent as "Y": remove the value with this ID
	// Presence records the keys that arrived: a value read writes back those.
	Presence `json:"-"`
	// Extra keeps keys the docs do not list.
	Extra Fields `json:"-"`
}

// UnmarshalJSON decodes the documented keys and keeps the others in Extra.
func (m *Multifield) UnmarshalJSON(data []byte) error {
	type plain Multifield
	return DecodeObject(data, (*plain)(m), &m.Extra)
}

// MarshalJSON encodes the documented keys and those in Extra.
func (m Multifield) MarshalJSON() ([]byte, error) {
	type plain Multifield
	return EncodeObject(plain(m), m.Extra)
}
