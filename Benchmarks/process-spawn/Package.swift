// swift-tools-version: 6.2
// Measures ProcessRunner (this project's way to run a process) against swift-subprocess side by
// side, as issue 10 asked; scripts/bench runs it. A package of its own so the project itself
// does not depend on swift-subprocess.
import PackageDescription

let package = Package(
    name: "process-spawn-bench",
    platforms: [.macOS(.v15)],
    dependencies: [
        // A link to the project root, so its package identity is longhorn-dr whatever the clone
        // folder is called.
        .package(path: "longhorn-dr"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2"),
    ],
    targets: [
        .executableTarget(
            name: "process-spawn-bench",
            dependencies: [
                .product(name: "ProcessRunner", package: "longhorn-dr"),
                .product(name: "Subprocess", package: "swift-subprocess"),
            ],
            swiftSettings: [.swiftLanguageMode(.v6)]
        )
    ]
)
