package dokstamp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestJournalRecordsSurviveReopen(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "j.jsonl")
	j, err := OpenJournal(path)
	require.NoError(t, err)
	require.NoError(t, j.bind("certificates", "fp1", 200))

	// 200 writers at once share fsyncs; each returns only once its record is on disk.
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			assert.NoError(t, j.record(i, statePending, "", fmt.Sprintf("file-%d", i), nil))
			switch i % 3 {
			case 0:
				assert.NoError(t, j.record(i, stateDone, fmt.Sprintf("cert-%d", i), fmt.Sprintf("file-%d", i), nil))
			case 1:
				assert.NoError(t, j.record(i, stateFailed, "", "", fmt.Errorf("boom %d", i)))
			}
		}()
	}
	wg.Wait()
	require.NoError(t, j.Close())
	require.NoError(t, j.Close(), "idempotent")

	data, err := os.ReadFile(path)
	require.NoError(t, err)
	lines := bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n"))
	assert.Len(t, lines, 1+200+67+67)
	var header map[string]any
	require.NoError(t, json.Unmarshal(lines[0], &header))
	assert.Equal(t, "dokstamp-batch", header["journal"])
	assert.Equal(t, "fp1", header["fingerprint"])

	j2, err := OpenJournal(path)
	require.NoError(t, err)
	defer j2.Close()
	require.NoError(t, j2.bind("certificates", "fp1", 200))
	for i := range 200 {
		it := j2.item(i)
		switch i % 3 {
		case 0:
			assert.Equal(t, journalItem{state: stateDone, cert: fmt.Sprintf("cert-%d", i), file: fmt.Sprintf("file-%d", i)}, it)
		case 1:
			assert.Equal(t, stateFailed, it.state)
		default:
			assert.Equal(t, statePending, it.state)
		}
	}
	assert.ErrorIs(t, j2.bind("certificates", "fp2", 200), ErrJournalMismatch)
	assert.ErrorIs(t, j2.bind("issue", "fp1", 200), ErrJournalMismatch)
	assert.ErrorIs(t, j2.bind("certificates", "fp1", 201), ErrJournalMismatch)
}

func TestJournalTornLastLine(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "j.jsonl")
	j, err := OpenJournal(path)
	require.NoError(t, err)
	require.NoError(t, j.bind("certificates", "fp", 3))
	require.NoError(t, j.record(0, stateDone, "cert-0", "file-0", nil))
	require.NoError(t, j.record(1, statePending, "", "file-1", nil))
	require.NoError(t, j.Close())

	// A crash in the middle of writing item 1's done record.
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString(`{"i":1,"s":"done","ce`)
	require.NoError(t, err)
	require.NoError(t, f.Close())

	j, err = OpenJournal(path)
	require.NoError(t, err)
	assert.Equal(t, stateDone, j.item(0).state)
	assert.Equal(t, statePending, j.item(1).state, "the torn record is ignored")
	require.NoError(t, j.record(2, stateDone, "cert-2", "file-2", nil))
	require.NoError(t, j.Close())

	data, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.NotContains(t, string(data), `"ce{`, "the torn bytes were cut off, not glued to the next record")
	j, err = OpenJournal(path)
	require.NoError(t, err)
	defer j.Close()
	assert.Equal(t, stateDone, j.item(2).state)

	// A complete record whose newline was lost is kept.
	path2 := filepath.Join(t.TempDir(), "j2.jsonl")
	require.NoError(t, os.WriteFile(path2, []byte(strings.TrimSuffix(string(data), "\n")), 0o600))
	j3, err := OpenJournal(path2)
	require.NoError(t, err)
	assert.Equal(t, "cert-2", j3.item(2).cert)
	require.NoError(t, j3.record(1, stateDone, "cert-1", "file-1", nil))
	require.NoError(t, j3.Close())
	j3, err = OpenJournal(path2)
	require.NoError(t, err)
	defer j3.Close()
	assert.Equal(t, "cert-1", j3.item(1).cert)
	assert.Equal(t, "cert-2", j3.item(2).cert)
}

func TestJournalRefusesCorruptFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
		return p
	}
	header := `{"journal":"dokstamp-batch","v":1,"kind":"certificates","items":2,"fingerprint":"fp"}` + "\n"

	_, err := OpenJournal(write("middle.jsonl", header+"garbage\n"+`{"i":0,"s":"done","cert":"c"}`+"\n"))
	assert.ErrorContains(t, err, "line 2 is corrupt")
	_, err = OpenJournal(write("other.jsonl", "hello\nworld\n"))
	assert.ErrorContains(t, err, "not a dokstamp batch journal")
	_, err = OpenJournal(write("range.jsonl", header+`{"i":7,"s":"done"}`+"\n"+`{"i":0,"s":"done"}`+"\n"))
	assert.ErrorContains(t, err, "corrupt", "an index outside the batch")
	_, err = OpenJournal(filepath.Join(dir, "missing-dir", "j.jsonl"))
	assert.Error(t, err)

	// A file holding only a torn header is an empty journal.
	j, err := OpenJournal(write("torn-header.jsonl", `{"journal":"dok`))
	require.NoError(t, err)
	require.NoError(t, j.bind("certificates", "fp", 2))
	require.NoError(t, j.Close())
	j, err = OpenJournal(filepath.Join(dir, "torn-header.jsonl"))
	require.NoError(t, err)
	assert.NoError(t, j.bind("certificates", "fp", 2))
	require.NoError(t, j.Close())
	assert.ErrorIs(t, j.record(0, statePending, "", "", nil), ErrJournalClosed)
}
