// Package samplepdf writes small, valid one-page PDFs for the examples, so that
// they run without any file of yours. The bytes depend only on the text given:
// the same text makes the same PDF, and different text a different one (the
// DokStamp server de-duplicates uploads by content, so every graduate needs
// their own bytes).
package samplepdf

import (
	"bytes"
	"fmt"
	"strings"
)

// New returns an A4 page showing title in large type and then each line.
func New(title string, lines ...string) []byte {
	var content bytes.Buffer
	content.WriteString("BT\n/F1 26 Tf\n72 740 Td\n")
	fmt.Fprintf(&content, "(%s) Tj\n", escape(title))
	content.WriteString("/F1 14 Tf\n0 -40 Td\n")
	for i, l := range lines {
		if i > 0 {
			content.WriteString("0 -22 Td\n")
		}
		fmt.Fprintf(&content, "(%s) Tj\n", escape(l))
	}
	content.WriteString("ET\n")

	objects := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%sendstream", content.Len(), content.String()),
	}

	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	offsets := make([]int, len(objects))
	for i, o := range objects {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objects)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objects)+1, xref)
	return b.Bytes()
}

// escape writes s as the inside of a PDF literal string in WinAnsi (Latin-1 for
// the letters used here); characters outside it become '?'.
func escape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '(' || r == ')' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r >= 0x20 && r < 0x7f:
			b.WriteRune(r)
		case r >= 0xa0 && r <= 0xff:
			fmt.Fprintf(&b, "\\%03o", r)
		default:
			b.WriteByte('?')
		}
	}
	return b.String()
}
