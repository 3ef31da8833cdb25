// swift-tools-version: 6.2
import PackageDescription

/// Settings every target shares: Swift 6 mode plus the upcoming features that keep imports honest.
let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "longhorn-dr",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "longhorn-dr", targets: ["longhorn-dr"]),
        // For Benchmarks/process-spawn, which measures it against swift-subprocess.
        .library(name: "ProcessRunner", targets: ["ProcessRunner"]),
    ],
    traits: [
        // The built-in simulated cluster (`sim serve`, `exercise --simulate`): on by default so
        // `swift run longhorn-dr exercise --simulate` works from a clone; off for the in-cluster
        // image (`--disable-default-traits`), whose binary then carries no HTTP server, no CA
        // minting and no Hummingbird (scripts/check-production-build proves it).
        .trait(name: "Simulator", description: "The built-in simulated cluster: sim serve and exercise --simulate."),
        .default(enabledTraits: ["Simulator"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/adam-fowler/compress-nio", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket", from: "2.8.1"),
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
        // AWS transport: SigV4 signing, an HTTP client (AsyncHTTPClient) with retries, S3 and SSM
        // clients, credentials. Knows nothing of Longhorn's backup format.
        .target(
            name: "AWS",
            dependencies: [
                "ProcessRunner",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // The bridge between the two: Backupstore's ObjectStore over the AWS S3 client. Its own target,
        // so neither depends on the other: format code stays testable without a network stack and
        // transport code never learns Longhorn's layout.
        .target(
            name: "BackupstoreS3",
            dependencies: ["AWS", "Backupstore"],
            swiftSettings: strict
        ),
        // The one way to run a process: posix_spawn into its own group, pipes and reaping on
        // threads, timeout and cancellation stopping the whole group; and the one tool lookup.
        .target(
            name: "ProcessRunner",
            swiftSettings: strict
        ),
        // Kubernetes wire types shared by the client and the simulator: JSON values, Status,
        // selectors and patch semantics.
        .target(
            name: "KubeModels",
            swiftSettings: strict
        ),
        // The Kubernetes client: kubeconfig and auth, REST verbs, watch, exec, logs.
        .target(
            name: "KubeClient",
            dependencies: [
                "KubeModels",
                "ProcessRunner",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOHTTPCompression", package: "swift-nio-extras"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        // The simulated cluster: an in-memory Kubernetes API server with controllers, served
        // over real HTTP(S) on loopback.
        .target(
            name: "Simulator",
            dependencies: [
                "KubeModels",
                "ProcessRunner",
                "Backupstore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HummingbirdHTTP2", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOFoundationEssentialsCompat", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: strict
        ),
        // Longhorn semantics over the Kubernetes client: models, version traits, and the waits and
        // objects a restore or a backup needs, right for Longhorn v1.6 through v1.12.
        .target(
            name: "Longhorn",
            dependencies: [
                "KubeClient",
                "KubeModels",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        // The restore orchestrator's application service: the decision table applied to every
        // declared volume through a port. No network stack: its tests run against a scripted port.
        .target(
            name: "RestoreOrchestrator",
            dependencies: ["DRCore"],
            swiftSettings: strict
        ),
        // The orchestrator's port over the Kubernetes API and Longhorn: what the Job and the
        // exercise's setup run.
        .target(
            name: "LonghornRestoreAdapter",
            dependencies: ["RestoreOrchestrator", "DRCore", "Longhorn", "KubeClient", "KubeModels"],
            swiftSettings: strict
        ),
        // The DR exercise's application service: phases, budgets, journal, destroy gate, report.
        .target(
            name: "Exercise",
            dependencies: ["DRCore", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strict
        ),
        // The exercise's cluster side over the real clients, and the environment for a real cluster
        // (destroy/rebuild commands, kubeconfig sources, the S3 store check).
        .target(
            name: "ClusterExercise",
            dependencies: [
                "Exercise", "RestoreOrchestrator", "LonghornRestoreAdapter", "ProcessRunner", "KubeClient", "KubeModels", "Longhorn", "Backupstore",
                "BackupstoreS3", "AWS", "DRCore", "Delivery",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: strict
        ),
        // Flux's source- and kustomize-controller, simulated over the API (`sim serve --flux-source`):
        // a folder as the GitRepository, Kustomizations built with the real kustomize.
        .target(
            name: "SimulatedFlux",
            dependencies: [
                "DRCore", "KubeClient", "KubeModels", "ProcessRunner", "Simulator",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        // The exercise against the built-in simulated cluster (`exercise --simulate`).
        .target(
            name: "SimulatedExercise",
            dependencies: [
                "Exercise", "ClusterExercise", "Simulator", "SimulatedFlux", "KubeClient", "KubeModels", "Longhorn", "Backupstore", "BackupstoreS3",
                "AWS", "DRCore",
            ],
            swiftSettings: strict
        ),
        // `longhorn-dr assure`: every declared volume's newest backup, its age and its blocks,
        // verified incrementally between DR exercises.
        .target(name: "Assurance", dependencies: ["Backupstore", "ClusterExercise", "Delivery", "DRCore", "Longhorn"], swiftSettings: strict),
        // A finished run's results sent out: textfile, Pushgateway, JSON and Discord webhooks.
        .target(
            name: "Delivery",
            dependencies: [
                "DRCore", "Exercise",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "longhorn-dr",
            dependencies: [
                "Assurance",
                "Delivery",
                "DRCore",
                "KubeClient",
                "KubeModels",
                .target(name: "Simulator", condition: .when(traits: ["Simulator"])),
                "AWS",
                "Backupstore",
                "BackupstoreS3",
                "Longhorn",
                "RestoreOrchestrator",
                "LonghornRestoreAdapter",
                "ProcessRunner",
                "Exercise",
                "ClusterExercise",
                .target(name: "SimulatedExercise", condition: .when(traits: ["Simulator"])),
                .target(name: "SimulatedFlux", condition: .when(traits: ["Simulator"])),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // Benchmarks: run through scripts/bench, never part of the tests.
        .executableTarget(
            name: "watch-latency-bench",
            dependencies: ["KubeClient", "Simulator", "KubeModels"],
            path: "Benchmarks/WatchLatency",
            swiftSettings: strict
        ),
        .testTarget(name: "DRCoreTests", dependencies: ["DRCore"], swiftSettings: strict),
        .testTarget(name: "BackupstoreTests", dependencies: ["Backupstore", "CLITestSupport"], swiftSettings: strict),
        .testTarget(name: "AWSTests", dependencies: ["AWS", "CLITestSupport"], swiftSettings: strict),
        .testTarget(name: "BackupstoreS3Tests", dependencies: ["BackupstoreS3", "AWS"], swiftSettings: strict),
        .testTarget(name: "RestoreOrchestratorTests", dependencies: ["RestoreOrchestrator", "DRCore"], swiftSettings: strict),
        .testTarget(name: "ExerciseTests", dependencies: ["Exercise", "DRCore", .product(name: "Crypto", package: "swift-crypto")], swiftSettings: strict),
        .testTarget(name: "KubeModelsTests", dependencies: ["KubeModels"], swiftSettings: strict),
        .testTarget(
            name: "KubeClientTests",
            dependencies: [
                "KubeClient", "Simulator", "KubeModels", "SimulatorTestSupport", "CLITestSupport",
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ], swiftSettings: strict),
        .testTarget(
            name: "LonghornTests",
            dependencies: [
                "Longhorn", "KubeClient", "KubeModels", "Simulator", "SimulatorTestSupport", "CLITestSupport", .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: strict
        ),
        .testTarget(name: "SimulatorTests", dependencies: ["Simulator", "KubeModels", "Backupstore"], swiftSettings: strict),
        .testTarget(
            name: "SimulatedFluxTests",
            dependencies: ["SimulatedFlux", "SimulatorTestSupport", "Simulator", "KubeClient", "KubeModels", "ClusterExercise", "DRCore"],
            swiftSettings: strict),
        // Runs the built `longhorn-dr` binary as a process, as users and Task do.
        .testTarget(name: "EndToEndTests", dependencies: ["CLITestSupport"], swiftSettings: strict),
        // Test support: the one way tests find and run the built binary, and the one way they
        // start a simulated cluster and reach it with the real client.
        .target(name: "CLITestSupport", dependencies: ["ProcessRunner"], path: "Tests/CLITestSupport", swiftSettings: strict),
        .target(
            name: "SimulatorTestSupport",
            dependencies: [
                "Simulator", "KubeClient", "KubeModels", .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ], path: "Tests/SimulatorTestSupport", swiftSettings: strict),
        .testTarget(
            name: "AssuranceTests",
            dependencies: [
                "Assurance", "Backupstore", "CLITestSupport", "Delivery", "DRCore", "KubeClient", "KubeModels", "Longhorn", "Simulator",
                "SimulatorTestSupport",
            ], swiftSettings: strict),
        // Delivery against a receiver on loopback (Hummingbird) that records what it got.
        .testTarget(
            name: "DeliveryTests",
            dependencies: [
                "Delivery", "DRCore", "SimulatorTestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        // The Alertmanager gate's tests serve canned answers over HTTP(S) on loopback (Hummingbird,
        // the simulator's throwaway CA) and post alerts to a real Alertmanager (scripts/e2e-alertmanager).
        .testTarget(
            name: "ClusterExerciseTests",
            dependencies: [
                "ClusterExercise", "DRCore", "KubeClient", "KubeModels", "Simulator", "SimulatorTestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        .testTarget(name: "ProcessRunnerTests", dependencies: ["ProcessRunner"], swiftSettings: strict),
        // The shipped Kubernetes and Flux manifests, checked as files (scripts/e2e-restore-job runs them).
        .testTarget(
            name: "PackagingTests",
            dependencies: ["Assurance", "DRCore", .product(name: "Yams", package: "Yams")],
            swiftSettings: strict
        ),
        // Against the real SeaweedFS (S3, SigV4 enforced) and moto (SSM) that scripts/test starts.
        .testTarget(
            name: "S3IntegrationTests",
            dependencies: [
                "AWS", "Backupstore", "BackupstoreS3", "CLITestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        // `scripts/bench`: seeds a large backup into the local S3 server and measures raw download
        // throughput; the verify side is the real `longhorn-dr backup verify`.
        .executableTarget(
            name: "longhorn-dr-bench",
            dependencies: ["AWS", "Backupstore", "BackupstoreS3", "KubeModels"],
            path: "Benchmarks/longhorn-dr-bench",
            swiftSettings: strict
        ),
    ]
)
