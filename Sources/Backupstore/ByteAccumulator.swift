/// A growable byte buffer on raw memory, for the LZ4 codec's output.
///
/// `[UInt8]` would do, but growing an array by N zero bytes (to decode into it) is element-by-element in
/// debug builds and dominated restore time; this grows with one `copyMemory` and never zero-fills.
///
/// It can also write into memory it does not own (`init(borrowing:)`), such as the storage of an array being
/// initialized, so a decoder whose output size is bounded up front can skip the final copy. Such an
/// accumulator never grows: callers must bound what they write by its capacity.
final class ByteAccumulator {
    private(set) var base: UnsafeMutableRawPointer
    private(set) var capacity: Int
    /// Bytes written so far; callers that write through `base` set it themselves.
    var count = 0
    /// False for borrowed memory: neither freed nor replaced by `reserve`.
    private let ownsMemory: Bool

    init(capacity: Int) {
        self.capacity = max(capacity, 64)
        base = UnsafeMutableRawPointer.allocate(byteCount: self.capacity, alignment: 16)
        ownsMemory = true
    }

    /// Writes into `storage`, which must outlive this accumulator and is not freed by it.
    init(borrowing storage: UnsafeMutableRawPointer, capacity: Int) {
        base = storage
        self.capacity = capacity
        ownsMemory = false
    }

    deinit {
        if ownsMemory { base.deallocate() }
    }

    /// Makes room for `extra` more bytes after `count`.
    func reserve(_ extra: Int) {
        let needed = count + extra
        guard needed > capacity else { return }
        precondition(ownsMemory, "ByteAccumulator: borrowed storage of \(capacity) bytes cannot grow to \(needed)")
        let newCapacity = max(needed, capacity * 2)
        let newBase = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: 16)
        newBase.copyMemory(from: base, byteCount: count)
        base.deallocate()
        base = newBase
        capacity = newCapacity
    }

    func append(_ bytes: UnsafeRawBufferPointer) {
        guard let source = bytes.baseAddress, !bytes.isEmpty else { return }
        reserve(bytes.count)
        (base + count).copyMemory(from: source, byteCount: bytes.count)
        count += bytes.count
    }

    func append(_ byte: UInt8) {
        reserve(1)
        base.storeBytes(of: byte, toByteOffset: count, as: UInt8.self)
        count += 1
    }

    func appendLE32(_ value: UInt32) {
        reserve(4)
        base.storeBytes(of: value.littleEndian, toByteOffset: count, as: UInt32.self)
        count += 4
    }

    /// The bytes written so far.
    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    func toArray() -> [UInt8] {
        let length = count
        let source = base
        return [UInt8](unsafeUninitializedCapacity: length) { buffer, initialized in
            if let destination = buffer.baseAddress, length > 0 {
                UnsafeMutableRawPointer(destination).copyMemory(from: source, byteCount: length)
            }
            initialized = length
        }
    }
}
