// Checks the public log's heads and proofs with Go's own transparency-log packages
// (golang.org/x/mod/sumdb/note and sumdb/tlog), an implementation independent of the site's.
//
// It reads one JSON object on standard input and writes one on standard output:
//
//	in:  {"verifier_key", "checkpoint", "leaves": [base64...],
//	      "inclusion": [{"index", "size", "path": [base64...]}],
//	      "consistency": [{"first", "second", "proof": [base64...]}]}
//	out: {"note_text", "note_error", "roots": {size: base64}, "inclusion": [error or ""],
//	      "consistency": [error or ""], "record_proofs": [[base64...]], "tree_proofs": [[base64...]]}
//
// Roots are computed by tlog from the leaves alone; the proofs are checked against those roots,
// and tlog's own proofs are returned to be compared with the site's.
package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type inclusion struct {
	Index int64    `json:"index"`
	Size  int64    `json:"size"`
	Path  []string `json:"path"`
}

type consistency struct {
	First  int64    `json:"first"`
	Second int64    `json:"second"`
	Proof  []string `json:"proof"`
}

type input struct {
	VerifierKey string        `json:"verifier_key"`
	Checkpoint  string        `json:"checkpoint"`
	Leaves      []string      `json:"leaves"`
	Inclusion   []inclusion   `json:"inclusion"`
	Consistency []consistency `json:"consistency"`
}

type output struct {
	NoteText     string              `json:"note_text"`
	NoteError    string              `json:"note_error"`
	Roots        map[int64]string    `json:"roots"`
	Inclusion    []string            `json:"inclusion"`
	Consistency  []string            `json:"consistency"`
	RecordProofs [][]string          `json:"record_proofs"`
	TreeProofs   [][]string          `json:"tree_proofs"`
}

type memory []tlog.Hash

func (m memory) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, index := range indexes {
		out[i] = m[index]
	}
	return out, nil
}

func hashes(encoded []string) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(encoded))
	for i, text := range encoded {
		raw, err := base64.StdEncoding.DecodeString(text)
		if err != nil || len(raw) != tlog.HashSize {
			return nil, fmt.Errorf("bad hash %q", text)
		}
		copy(out[i][:], raw)
	}
	return out, nil
}

func encode(list []tlog.Hash) []string {
	out := make([]string, len(list))
	for i, h := range list {
		out[i] = base64.StdEncoding.EncodeToString(h[:])
	}
	return out
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func main() {
	var in input
	if err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	out := output{Roots: map[int64]string{}}

	verifier, err := note.NewVerifier(in.VerifierKey)
	if err == nil {
		var opened *note.Note
		opened, err = note.Open([]byte(in.Checkpoint), note.VerifierList(verifier))
		if err == nil {
			out.NoteText = opened.Text
		}
	}
	out.NoteError = errText(err)

	var stored memory
	roots := map[int64]tlog.Hash{}
	for i, text := range in.Leaves {
		leaf, err := base64.StdEncoding.DecodeString(text)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		more, err := tlog.StoredHashes(int64(i), leaf, stored)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		stored = append(stored, more...)
	}
	root := func(size int64) tlog.Hash {
		if h, ok := roots[size]; ok {
			return h
		}
		h, err := tlog.TreeHash(size, stored)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		roots[size] = h
		out.Roots[size] = base64.StdEncoding.EncodeToString(h[:])
		return h
	}

	for _, probe := range in.Inclusion {
		leaf, _ := base64.StdEncoding.DecodeString(in.Leaves[probe.Index])
		path, err := hashes(probe.Path)
		if err == nil {
			err = tlog.CheckRecord(tlog.RecordProof(path), probe.Size, root(probe.Size), probe.Index, tlog.RecordHash(leaf))
		}
		out.Inclusion = append(out.Inclusion, errText(err))
		theirs, err := tlog.ProveRecord(probe.Size, probe.Index, stored)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		out.RecordProofs = append(out.RecordProofs, encode(theirs))
	}
	for _, probe := range in.Consistency {
		proof, err := hashes(probe.Proof)
		if err == nil {
			err = tlog.CheckTree(tlog.TreeProof(proof), probe.Second, root(probe.Second), probe.First, root(probe.First))
		}
		out.Consistency = append(out.Consistency, errText(err))
		theirs, err := tlog.ProveTree(probe.Second, probe.First, stored)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		out.TreeProofs = append(out.TreeProofs, encode(theirs))
	}
	json.NewEncoder(os.Stdout).Encode(out)
}
