import Testing

@testable import Backupstore

@Suite("xxHash32")
struct XXHash32Tests {
    // Expected values were read off the reference lz4 tool: the content checksum it appends to a frame.
    @Test(
        "known answers, seed 0",
        arguments: [
            ("", UInt32(0x02CC_5D05)),
            ("a", 0x550D_7456),
            ("abc", 0x32D1_53FF),
            ("Nobody inspects the spammish repetition", 0xE229_3B2F),
        ])
    func knownAnswers(input: String, expected: UInt32) {
        #expect(XXHash32.hash(Array(input.utf8)) == expected)
    }

    @Test("seed changes the hash; every length up to 64 hashes without trapping")
    func seedsAndLengths() {
        #expect(XXHash32.hash([UInt8](), seed: 1) != XXHash32.hash([UInt8](), seed: 0))
        let data = TestData.random(64, seed: 7)
        var seen: Set<UInt32> = []
        for length in 0...64 {
            seen.insert(XXHash32.hash(Array(data.prefix(length))))
        }
        #expect(seen.count == 65)
    }
}
