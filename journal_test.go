package dokstamp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
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
	require.NoError(t, j.begin())

	// 200 writers at once share fsyncs; each returns only once its record is on disk.
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			assert.NoError(t, j.record(fmt.Sprint(i), statePending, "", fmt.Sprintf("file-%d", i), "", nil))
			switch i % 3 {
			case 0:
				assert.NoError(t, j.record(fmt.Sprint(i), stateDone, fmt.Sprintf("cert-%d", i), fmt.Sprintf("file-%d", i), fmt.Sprintf("hash-%d", i), nil))
			case 1:
				assert.NoError(t, j.record(fmt.Sprint(i), stateFailed, "", "", "", fmt.Errorf("boom %d", i)))
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
	assert.EqualValues(t, journalVersion, header["v"])

	j2, err := OpenJournal(path)
	require.NoError(t, err)
	defer j2.Close()
	require.NoError(t, j2.begin())
	for i := range 200 {
		it := j2.item(fmt.Sprint(i))
		switch i % 3 {
		case 0:
			assert.Equal(t, journalItem{state: stateDone, cert: fmt.Sprintf("cert-%d", i), file: fmt.Sprintf("file-%d", i), hash: fmt.Sprintf("hash-%d", i)}, it)
		case 1:
			assert.Equal(t, stateFailed, it.state)
		default:
			assert.Equal(t, statePending, it.state)
		}
	}
	assert.ErrorIs(t, j2.begin(), ErrJournalInUse, "one run at a time")
	j2.end()
	assert.NoError(t, j2.begin())
}

func TestJournalTornLastLine(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "j.jsonl")
	j, err := OpenJournal(path)
	require.NoError(t, err)
	require.NoError(t, j.begin())
	require.NoError(t, j.record("0", stateDone, "cert-0", "file-0", "", nil))
	require.NoError(t, j.record("1", statePending, "", "file-1", "", nil))
	require.NoError(t, j.Close())

	// A crash in the middle of writing item 1's done record.
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString(`{"k":"1","s":"done","ce`)
	require.NoError(t, err)
	require.NoError(t, f.Close())

	j, err = OpenJournal(path)
	require.NoError(t, err)
	assert.Equal(t, stateDone, j.item("0").state)
	assert.Equal(t, statePending, j.item("1").state, "the torn record is ignored")
	require.NoError(t, j.record("2", stateDone, "cert-2", "file-2", "", nil))
	require.NoError(t, j.Close())

	data, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.NotContains(t, string(data), `"ce{`, "the torn bytes were cut off, not glued to the next record")
	j, err = OpenJournal(path)
	require.NoError(t, err)
	defer j.Close()
	assert.Equal(t, stateDone, j.item("2").state)

	// A complete record whose newline was lost is kept.
	path2 := filepath.Join(t.TempDir(), "j2.jsonl")
	require.NoError(t, os.WriteFile(path2, []byte(strings.TrimSuffix(string(data), "\n")), 0o600))
	j3, err := OpenJournal(path2)
	require.NoError(t, err)
	assert.Equal(t, "cert-2", j3.item("2").cert)
	require.NoError(t, j3.record("1", stateDone, "cert-1", "file-1", "", nil))
	require.NoError(t, j3.Close())
	j3, err = OpenJournal(path2)
	require.NoError(t, err)
	defer j3.Close()
	assert.Equal(t, "cert-1", j3.item("1").cert)
	assert.Equal(t, "cert-2", j3.item("2").cert)
}

func TestJournalRefusesCorruptFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
		return p
	}
	header := `{"journal":"dokstamp-batch","v":2}` + "\n"

	_, err := OpenJournal(write("middle.jsonl", header+"garbage\n"+`{"k":"a/b/","s":"done","cert":"c"}`+"\n"))
	assert.ErrorContains(t, err, "line 2 is corrupt")
	_, err = OpenJournal(write("other.jsonl", "hello\nworld\n"))
	assert.ErrorContains(t, err, "not a dokstamp batch journal")
	_, err = OpenJournal(write("nokey.jsonl", header+`{"s":"done"}`+"\n"+`{"k":"a/b/","s":"done"}`+"\n"))
	assert.ErrorContains(t, err, "corrupt", "a record without its item's key")
	_, err = OpenJournal(write("v1.jsonl", `{"journal":"dokstamp-batch","v":1,"kind":"certificates","items":2,"fingerprint":"fp"}`+"\n"+`{"i":0,"s":"done","cert":"c"}`+"\n"))
	assert.ErrorIs(t, err, ErrJournalMismatch)
	assert.ErrorContains(t, err, "older dokstamp-go (format 1")
	assert.ErrorContains(t, err, "v1.jsonl")
	_, err = OpenJournal(filepath.Join(dir, "missing-dir", "j.jsonl"))
	assert.Error(t, err)

	// A file holding only a torn header is an empty journal.
	j, err := OpenJournal(write("torn-header.jsonl", `{"journal":"dok`))
	require.NoError(t, err)
	require.NoError(t, j.begin())
	require.NoError(t, j.Close())
	j, err = OpenJournal(filepath.Join(dir, "torn-header.jsonl"))
	require.NoError(t, err)
	assert.NoError(t, j.begin())
	require.NoError(t, j.Close())
	assert.ErrorIs(t, j.record("0", statePending, "", "", "", nil), ErrJournalClosed)
	assert.ErrorIs(t, j.begin(), ErrJournalClosed)
}

// TestJournalLockedInProcess: a journal file open is refused a second time, naming the file, until
// the first is closed.
func TestJournalLockedInProcess(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "j.jsonl")
	j, err := OpenJournal(path)
	require.NoError(t, err)
	_, err = OpenJournal(path)
	require.ErrorIs(t, err, ErrJournalInUse)
	assert.ErrorContains(t, err, path)
	require.NoError(t, j.Close())
	j, err = OpenJournal(path)
	require.NoError(t, err, "the journal opens once the first run closed it")
	require.NoError(t, j.Close())
}

const envLockChild = "DOKSTAMP_TEST_LOCK_JOURNAL"

// TestJournalLockChild is the other process of TestJournalLockedAcrossProcesses: it opens the
// journal named in its environment and prints the outcome.
func TestJournalLockChild(t *testing.T) {
	path := os.Getenv(envLockChild)
	if path == "" {
		return // only as a child
	}
	j, err := OpenJournal(path)
	if err != nil {
		fmt.Printf("refused: in use=%v: %v\n", errors.Is(err, ErrJournalInUse), err)
		os.Exit(0)
	}
	j.Close()
	fmt.Println("opened")
	os.Exit(0)
}

// TestJournalLockedAcrossProcesses: while this process holds the journal, another process (this
// test binary, re-executed) is refused; once closed, it opens it.
func TestJournalLockedAcrossProcesses(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "j.jsonl")
	child := func() string {
		cmd := exec.Command(os.Args[0], "-test.run=^TestJournalLockChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), envLockChild+"="+path)
		out, err := cmd.Output()
		require.NoError(t, err)
		return string(out)
	}
	j, err := OpenJournal(path)
	require.NoError(t, err)
	out := child()
	assert.Contains(t, out, "refused: in use=true")
	assert.Contains(t, out, path)
	require.NoError(t, j.Close())
	assert.Contains(t, child(), "opened")
}
