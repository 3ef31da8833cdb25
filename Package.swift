// swift-tools-version: 6.2
import PackageDescription

/// Settings every target shares: Swift 6 mode plus the upcoming features that keep imports honest.
let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "longhorn-dr",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "longhorn-dr", targets: ["longhorn-dr"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/adam-fowler/compress-nio", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    ],
    targets: [
        // Pure domain: configuration model and validation, exit codes, errors. No I/O.
        .target(
            name: "DRCore",
            dependencies: [.product(name: "Yams", package: "Yams")],
            swiftSettings: strict
        ),
        // Longhorn's backupstore layout and formats (volume.cfg, backup cfgs, blocks, LZ4/gzip).
        .target(
            name: "Backupstore",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        // AWS request signing (SigV4); S3 and SSM clients build on it.
        .target(
            name: "AWS",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "longhorn-dr",
            dependencies: [
                "DRCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        .testTarget(name: "DRCoreTests", dependencies: ["DRCore"], swiftSettings: strict),
        .testTarget(name: "BackupstoreTests", dependencies: ["Backupstore"], swiftSettings: strict),
        .testTarget(name: "AWSTests", dependencies: ["AWS"], swiftSettings: strict),
        // Runs the built `longhorn-dr` binary as a process, as users and Task do.
        .testTarget(name: "EndToEndTests", swiftSettings: strict),
    ]
)
