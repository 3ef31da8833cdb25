import Foundation

/// xxHash32, the checksum the LZ4 frame format uses for its header byte, block checksums and content checksum.
///
/// One-shot only: the LZ4 codec always has the whole block or frame content in memory.
public enum XXHash32 {
    static let prime1: UInt32 = 2_654_435_761
    static let prime2: UInt32 = 2_246_822_519
    static let prime3: UInt32 = 3_266_489_917
    static let prime4: UInt32 = 668_265_263
    static let prime5: UInt32 = 374_761_393

    /// The xxHash32 of `bytes` with `seed` (LZ4 always uses seed 0).
    public static func hash(_ bytes: some ContiguousBytes, seed: UInt32 = 0) -> UInt32 {
        bytes.withUnsafeBytes { hash(buffer: $0, seed: seed) }
    }

    /// The xxHash32 of a raw buffer.
    public static func hash(buffer: UnsafeRawBufferPointer, seed: UInt32 = 0) -> UInt32 {
        let count = buffer.count
        guard let base = buffer.baseAddress, count > 0 else {
            return avalanche(seed &+ prime5)
        }
        var position = 0
        var accumulator: UInt32
        if count >= 16 {
            var lane1 = seed &+ prime1 &+ prime2
            var lane2 = seed &+ prime2
            var lane3 = seed
            var lane4 = seed &- prime1
            let stripeLimit = count - 16
            while position <= stripeLimit {
                lane1 = round(lane1, readLE32(base, position))
                lane2 = round(lane2, readLE32(base, position + 4))
                lane3 = round(lane3, readLE32(base, position + 8))
                lane4 = round(lane4, readLE32(base, position + 12))
                position += 16
            }
            accumulator = rotl(lane1, 1) &+ rotl(lane2, 7) &+ rotl(lane3, 12) &+ rotl(lane4, 18)
        } else {
            accumulator = seed &+ prime5
        }
        // The spec adds the length modulo 2^32.
        accumulator = accumulator &+ UInt32(truncatingIfNeeded: count)
        while position + 4 <= count {
            accumulator = rotl(accumulator &+ readLE32(base, position) &* prime3, 17) &* prime4
            position += 4
        }
        while position < count {
            let byte = UInt32(base.load(fromByteOffset: position, as: UInt8.self))
            accumulator = rotl(accumulator &+ byte &* prime5, 11) &* prime1
            position += 1
        }
        return avalanche(accumulator)
    }

    @inline(__always)
    private static func round(_ lane: UInt32, _ input: UInt32) -> UInt32 {
        rotl(lane &+ input &* prime2, 13) &* prime1
    }

    @inline(__always)
    private static func rotl(_ value: UInt32, _ bits: UInt32) -> UInt32 {
        (value << bits) | (value >> (32 - bits))
    }

    @inline(__always)
    private static func avalanche(_ value: UInt32) -> UInt32 {
        var hash = value
        hash ^= hash >> 15
        hash = hash &* prime2
        hash ^= hash >> 13
        hash = hash &* prime3
        hash ^= hash >> 16
        return hash
    }

    @inline(__always)
    static func readLE32(_ base: UnsafeRawPointer, _ offset: Int) -> UInt32 {
        UInt32(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }
}
