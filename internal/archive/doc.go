// Package archive reads tar, gzip-compressed tar and zip archives member by
// member as streams, and writes new archives of the same format with the
// same member names, order, modes and times.
//
// # Reading
//
// A Reader hands out one member at a time (Next) and reads its bytes
// (Read). Every member is checked before its bytes are read: a name that
// would lead outside the folder it is unpacked into (an absolute path, a
// Windows drive or UNC name, a ".." step with '/' or '\' separators), a
// symbolic or hard link, a device or pipe, a second member of the same
// name, or an encrypted zip member is refused with an error that names the
// archive and the member. Links are refused rather than kept: unpacked,
// a link can point anywhere, and a later member written through it lands
// there.
//
// # Limits
//
// Limits bound what an archive may expand to: each member, all members
// together (a Budget shared by nested archives), the number of members,
// and the ratio of bytes read out to compressed bytes read in (a zip bomb
// compresses a thousandfold). Headers can lie, so the bytes actually read
// are counted, and the first byte over a limit fails the read.
//
// # Names from Windows tools
//
// Zip tools on Chinese Windows write member names in GBK without the
// UTF-8 flag. A name without the flag that is not valid UTF-8 is taken
// from the Info-ZIP Unicode Path extra field when one matches it, else
// decoded as GBK (Member.Decoded says so either way), and written back as
// UTF-8 with the flag set; a name that is neither is refused. Tar names are bytes and are kept
// as they are.
//
// # Writing
//
// A Writer writes members given their Member (for mode, time and, in a
// zip, the compression method) and bytes. A tar member's size goes in its
// header, before its bytes, so callers that change a member pass its new
// size. A tar member keeps its mode, owner and time; its extended
// attributes and other PAX records are not kept (they can say where a file
// came from), nor are zip comments and extra fields other than times.
package archive
