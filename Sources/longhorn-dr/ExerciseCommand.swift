import ArgumentParser
import ClusterExercise
import DRCore
import Exercise
import Foundation

#if Simulator
    import SimulatedExercise
    import Simulator
#endif

struct ExerciseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exercise",
        abstract: "Run the DR exercise: back up, destroy, rebuild, restore, verify byte for byte, report.",
        discussion: """
            Phases: preflight, setup, write-sentinel, backup, verify-backup-in-store, destroy, rebuild, wait-ready, \
            verify, report. Evidence is journaled outside the cluster (mode 0600) after every phase; --resume \
            continues after the last completed one (a begun destroy continues without the gate). Destroy runs only \
            when the backup completed and verified block by block in the store, the cluster is the one the run \
            started on, and you confirmed (--yes). PASS needs proof of a new cluster whose bootstrap restored this \
            run's backup. --only PHASE runs one phase of the saved run and --from PHASE runs from there to the end, \
            both with the same gates (the phases before PHASE must have completed). Ctrl-C stops the running \
            command's whole process group and journals the phase.
            Exit status: 0 PASS, 1 the data did not come back, 2 usage/config, 3 environment, 4 infrastructure or timeout.
            """)

    @Option(name: .shortAndLong, help: "The exercise config (see examples/exercise.yaml). Optional with --simulate.")
    var config: String?

    @Flag(help: "Run against the built-in simulated cluster (no real cluster is touched).")
    var simulate = false

    @Option(help: "With --simulate: the Longhorn version the simulated manager behaves like (default \(Self.defaultLonghorn)).")
    var longhornVersion: String?

    @Option(help: "With --simulate: break the run on purpose (\(Self.faults.joined(separator: ", "))) to see it FAIL.")
    var simulateFault: String?

    @Flag(help: "Continue the last run after its last completed phase (real clusters; a simulated cluster does not outlive its process).")
    var resume = false

    @Option(
        help: ArgumentHelp(
            "Run the saved run again from PHASE to the end; every phase before it must have completed (preflight: a new run).", valueName: "phase"))
    var from: ExercisePhase?

    @Option(
        help: ArgumentHelp(
            "Run only PHASE of the saved run (the phases before it must have completed; preflight: a new run), then stop.", valueName: "phase"))
    var only: ExercisePhase?

    @Flag(help: "Confirm that the cluster may be destroyed (otherwise destroy is refused).")
    var yes = false

    @Option(help: "Where reports go (default: the config's report.directory, else <state dir>/reports).")
    var reportDir: String?

    func validate() throws {
        if !simulate, config == nil { throw ValidationError("give --config FILE, or --simulate for the built-in simulated cluster") }
        if let longhornVersion, !Self.isLonghornVersion(longhornVersion) {
            throw ValidationError("--longhorn-version must look like v1.10.2, got \(longhornVersion)")
        }
        if let simulateFault, !Self.faults.contains(simulateFault) {
            throw ValidationError("--simulate-fault must be one of \(Self.faults.joined(separator: ", ")), got \(simulateFault)")
        }
        if longhornVersion != nil, !simulate { throw ValidationError("--longhorn-version needs --simulate") }
        if simulate, resume { throw ValidationError("--resume does not apply to --simulate: the simulated cluster ends with its process; run again") }
        if simulate, from != nil || only != nil {
            throw ValidationError("--from and --only do not apply to --simulate: the simulated cluster ends with its process; run the whole exercise")
        }
        if [resume, from != nil, only != nil].filter({ $0 }).count > 1 { throw ValidationError("give one of --resume, --from PHASE, --only PHASE") }
        if from == .report || only == .report {
            throw ValidationError("the report is written after verify; use --from verify, or read the last report")
        }
        if simulateFault != nil, !simulate { throw ValidationError("--simulate-fault needs --simulate") }
    }

    func run() async throws {
        let exerciseConfig: ExerciseConfig
        if let config {
            exerciseConfig = try ConfigLoader.loadExercise(try ConfigLoader.readFile(config), file: config)
        } else {
            // The plan's workload, with a smaller volume so the simulated run takes seconds.
            exerciseConfig = try ConfigLoader.loadExercise(
                "kind: ExerciseConfig\ncluster: {name: sim}\nworkload: {size: 256Mi}\n", file: "(built-in simulate config)")
        }
        let stateDirectory = FileJournalStore.stateDirectory(configured: exerciseConfig.stateDirectory)
        let journal = FileJournalStore(
            path: stateDirectory.appendingPathComponent("exercise-\(exerciseConfig.cluster.name)\(simulate ? "-simulated" : "").journal.json"))
        let runFolder = simulate ? simulateWorkRoot() : stateDirectory.appendingPathComponent("exercise-\(exerciseConfig.cluster.name)")
        let environment: ClusterExerciseEnvironment
        let confirmed: Bool
        if simulate {
            // The simulated cluster ended with the process that made it: an earlier simulated
            // run, finished or not, has nothing left to resume.
            try? FileManager.default.removeItem(at: journal.path)
            environment = try simulatedEnvironment(exerciseConfig, runFolder: runFolder)
            Terminal.note("DR exercise on the simulated cluster (Longhorn \(longhornVersion ?? Self.defaultLonghorn)); journal \(journal.path.path)")
            confirmed = true
        } else {
            confirmed = yes || confirmInteractively(exerciseConfig.cluster.name)
            environment = ClusterExerciseEnvironment(
                config: exerciseConfig,
                provisioner: CommandProvisioner(config: exerciseConfig, workDirectory: runFolder, log: Terminal.note),
                storeOpener: S3StoreOpener(config: exerciseConfig), workDirectory: runFolder, log: Terminal.note)
            Terminal.note("DR exercise on cluster \(exerciseConfig.cluster.name); journal \(journal.path.path)")
        }
        let session = ExerciseSession(
            config: exerciseConfig, environment: environment, journal: journal,
            options: .init(resume: resume, confirmedDestroy: confirmed, from: from ?? only, stopAfter: only), log: Terminal.note)
        let folder =
            reportDir.map { URL(fileURLWithPath: ($0 as NSString).expandingTildeInPath) }
            ?? exerciseConfig.report.directory.map { URL(fileURLWithPath: ($0 as NSString).expandingTildeInPath) }
            ?? stateDirectory.appendingPathComponent("reports")
        let report = try await session.run(forensicsFolder: folder)
        if simulate { try? FileManager.default.removeItem(at: runFolder) }
        if let only, only != .verify, !report.somethingFailed {
            // Told to stop here: no verdict yet, so no report is published.
            let phases = ExercisePhase.allCases
            let next = phases.firstIndex(of: only).map { phases[$0 + 1].rawValue } ?? "verify"
            print(
                "\(only.rawValue) completed in run \(report.runID). Next: longhorn-dr exercise --config \(config ?? "FILE") --from \(next) (or --only \(next))")
            return
        }
        print(report.consoleText())
        try await session.publish(report, to: folder)
        if report.exitStatus != .ok { throw ExitStatusError(status: report.exitStatus) }
    }

    /// Asks for the cluster's name on a terminal before anything runs; without a terminal (CI,
    /// Task without a TTY) the answer is no, and the destroy phase refuses: pass --yes there.
    private func confirmInteractively(_ cluster: String) -> Bool {
        guard isatty(STDIN_FILENO) == 1 else { return false }
        FileHandle.standardError.write(Data("This exercise DESTROYS cluster \(cluster) and rebuilds it. Type the cluster name to go ahead: ".utf8))
        return readLine()?.trimmingCharacters(in: .whitespaces) == cluster
    }

    private func simulateWorkRoot() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("longhorn-dr-exercise-\(UUID().uuidString.prefix(8))")
    }
}

extension ExercisePhase: ExpressibleByArgument {
    public init?(argument: String) { self.init(rawValue: argument) }
    // The report is not a phase one runs: it is written after verify.
    public static var allValueStrings: [String] { allCases.filter { $0 != .report }.map(\.rawValue) }
}

#if Simulator
    extension ExerciseCommand {
        static let defaultLonghorn = LonghornPersonality.default.description
        static let faults = SimulatedClusterProvisioner.Fault.allCases.map(\.rawValue)
        static func isLonghornVersion(_ text: String) -> Bool { LonghornPersonality(text) != nil }

        /// The same phase code as a real run; only the cluster (simulated, started and destroyed in
        /// this process) and the store (its folder) differ.
        func simulatedEnvironment(_ config: ExerciseConfig, runFolder: URL) throws -> ClusterExerciseEnvironment {
            let provisioner = SimulatedClusterProvisioner(
                config: config, personality: longhornVersion.flatMap(LonghornPersonality.init) ?? .default,
                workRoot: runFolder, fault: simulateFault.flatMap(SimulatedClusterProvisioner.Fault.init(rawValue:)), log: Terminal.note)
            return ClusterExerciseEnvironment(
                config: config, provisioner: provisioner, storeOpener: provisioner.storeOpener,
                workDirectory: runFolder, log: Terminal.note)
        }
    }
#else
    extension ExerciseCommand {
        static let defaultLonghorn = "none in this build"
        static let faults: [String] = []
        static func isLonghornVersion(_ text: String) -> Bool { true }

        func simulatedEnvironment(_ config: ExerciseConfig, runFolder: URL) throws -> ClusterExerciseEnvironment {
            throw DRError(
                .usage, subject: "--simulate",
                detail: "this build has no simulated cluster (it was built without the Simulator trait, as the in-cluster image is)",
                hint: "run the simulated exercise from a default build: swift run longhorn-dr exercise --simulate")
        }
    }
#endif
