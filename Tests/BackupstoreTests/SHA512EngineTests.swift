import Backupstore
import Foundation
import Testing

/// Both SHA-512 implementations give the same block names.
@Suite struct SHA512EngineTests {
    @Test func libcryptoIsLoadedHereForTheComparison() {
        // Debian ships libcrypto.so.3 on every machine of this kind: the bench compares both, and
        // the test below checks both name blocks alike. Without it they would silently not run.
        #expect(SHA512Engine.libcrypto.isAvailable, "libcrypto.so.3 could not be loaded (Debian: apt-get install libssl3)")
        #expect(SHA512Engine.libcrypto.summary == "OpenSSL libcrypto (libcrypto.so.3)")
        // The faster one where it loads (the image ships it), unless LONGHORN_DR_SHA512=boringssl asks.
        #expect(SHA512Engine.preferred == (ProcessInfo.processInfo.environment["LONGHORN_DR_SHA512"] == "boringssl" ? .boringSSL : .libcrypto))
    }

    @Test(arguments: [0, 1, 111, 112, 127, 128, 129, 4096, 2 << 20])
    func bothEnginesNameABlockAlike(size: Int) {
        var generator = SystemRandomNumberGenerator()
        let block = (0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let names = SHA512Engine.allCases.map { BackupstoreLayout.checksum(of: block, engine: $0) }
        #expect(Set(names).count == 1, "\(names)")
        #expect(names[0].count == 64)
    }

    @Test func theKnownAnswerOfAnEmptyAndAnABCInput() {
        // FIPS 180-2's test vectors, cut to the 64 hex digits a block name keeps.
        for engine in SHA512Engine.allCases {
            #expect(BackupstoreLayout.checksum(of: [UInt8](), engine: engine) == "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce")
            #expect(BackupstoreLayout.checksum(of: Array("abc".utf8), engine: engine) == "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a")
            // Data, the type blocks arrive in, takes the contiguous path.
            #expect(BackupstoreLayout.checksum(of: Data("abc".utf8), engine: engine) == "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a")
        }
    }
}
