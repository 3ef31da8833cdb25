import Crypto
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// SHA-512, the one hash of every block `verify` and `assure` read, from one of the two
/// implementations this binary can use: swift-crypto's BoringSSL (linked; on x86-64 it runs its
/// portable code, `sha512_block_data_order_nohw` in a profile) or OpenSSL's libcrypto
/// (`libcrypto.so.3`, loaded at run time when the system has it; AVX2 code where the CPU has it).
/// `longhorn-dr-bench codec` times both side by side: on this project's machine (AMD EPYC)
/// libcrypto is about 1.1× faster per CPU-second, so it is the default wherever it loads (the
/// image ships it); `LONGHORN_DR_SHA512=boringssl` picks the linked one.
public enum SHA512Engine: String, Sendable, CaseIterable {
    case libcrypto
    case boringSSL = "boringssl"

    /// libcrypto when it can be loaded, unless `LONGHORN_DR_SHA512=boringssl` asks for the linked one.
    public static let preferred: SHA512Engine = {
        if ProcessInfo.processInfo.environment["LONGHORN_DR_SHA512"] == SHA512Engine.boringSSL.rawValue { return .boringSSL }
        return LibcryptoSHA512.function != nil ? .libcrypto : .boringSSL
    }()

    /// Whether this engine can run here.
    public var isAvailable: Bool { self == .boringSSL || LibcryptoSHA512.function != nil }

    /// What `longhorn-dr version` prints.
    public var summary: String {
        switch self {
        case .libcrypto: "OpenSSL libcrypto (\(LibcryptoSHA512.name))"
        case .boringSSL: "BoringSSL (swift-crypto, linked)"
        }
    }

    /// The 64-byte digest of `bytes`.
    public func digest(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        switch self {
        case .libcrypto:
            if let sha512 = LibcryptoSHA512.function {
                var out = [UInt8](repeating: 0, count: 64)
                out.withUnsafeMutableBufferPointer { target in
                    _ = sha512(bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count, target.baseAddress)
                }
                return out
            }
            return Array(SHA512.hash(data: bytes))
        case .boringSSL:
            return Array(SHA512.hash(data: bytes))
        }
    }
}

/// `SHA512()` from libcrypto.so.3, looked up once. Its one-shot form with a caller's buffer keeps
/// no shared state, so any number of threads may call it.
enum LibcryptoSHA512 {
    typealias Function = @convention(c) (UnsafePointer<UInt8>?, Int, UnsafeMutablePointer<UInt8>?) -> UnsafeMutablePointer<UInt8>?

    static let function: Function? = {
        guard let handle = dlopen(name, RTLD_NOW | RTLD_LOCAL), let symbol = dlsym(handle, "SHA512") else { return nil }
        return unsafeBitCast(symbol, to: Function.self)
    }()

    static let name = "libcrypto.so.3"
}
