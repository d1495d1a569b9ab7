// Package aries is Mandate's one adapter to hyperledger aries-framework-go.
//
// aries' provider objects and interface{} look-ups stay inside this package:
// the rest of Mandate speaks its own types. It offers the linked-data proof
// engine (Ed25519Signature2020 over URDNA2015, JSON-LD contexts served only
// from an embedded set), a strict JSON-LD check, and the key manager over the
// wallet's badger store.
package aries
