import ArgumentParser
import DRCore
import Exercise
import Foundation
import SimulatedExercise
import Simulator

struct ExerciseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exercise",
        abstract: "Run the DR exercise: back up, destroy, rebuild, restore, verify byte for byte, report.",
        discussion: """
            Phases: preflight, setup, write-sentinel, backup, verify-backup-in-store, destroy, rebuild, wait-ready, \
            verify, report. Evidence is journaled outside the cluster (mode 0600) after every phase; --resume \
            continues after the last completed one. Destroy runs only when the backup completed and verified block \
            by block in the store, the cluster is the one the run started on, and you confirmed (--yes).
            Exit status: 0 PASS, 1 the data did not come back, 2 usage/config, 3 environment, 4 infrastructure or timeout.
            """)

    @Option(name: .shortAndLong, help: "The exercise config (see examples/exercise.yaml). Optional with --simulate.")
    var config: String?

    @Flag(help: "Run against the built-in simulated cluster (no real cluster is touched).")
    var simulate = false

    @Option(help: "With --simulate: the Longhorn version the simulated manager behaves like.")
    var longhornVersion = LonghornPersonality.default.description

    @Option(help: "With --simulate: break the run on purpose (\(SimulatedExerciseEnvironment.Fault.allCases.map(\.rawValue).joined(separator: ", "))) to see it FAIL.")
    var simulateFault: SimulatedExerciseEnvironment.Fault?

    @Flag(help: "Continue the last run after its last completed phase (real clusters; a simulated cluster does not outlive its process).")
    var resume = false

    @Flag(help: "Confirm that the cluster may be destroyed (otherwise destroy is refused).")
    var yes = false

    @Option(help: "Where reports go (default: the config's report.directory, else <state dir>/reports).")
    var reportDir: String?

    func validate() throws {
        if !simulate, config == nil { throw ValidationError("give --config FILE, or --simulate for the built-in simulated cluster") }
        if simulate, LonghornPersonality(longhornVersion) == nil { throw ValidationError("--longhorn-version must look like v1.10.2, got \(longhornVersion)") }
        if simulate, resume { throw ValidationError("--resume does not apply to --simulate: the simulated cluster ends with its process; run again") }
        if simulateFault != nil, !simulate { throw ValidationError("--simulate-fault needs --simulate") }
    }

    func run() async throws {
        let exerciseConfig: ExerciseConfig
        if let config {
            exerciseConfig = try ConfigLoader.loadExercise(try readConfigFile(config), file: config)
        } else {
            // The plan's workload, with a smaller volume so the simulated run takes seconds.
            exerciseConfig = try ConfigLoader.loadExercise("kind: ExerciseConfig\ncluster: {name: sim}\nworkload: {size: 256Mi}\n", file: "(built-in simulate config)")
        }
        guard simulate else {
            throw DRError(.environment, subject: "exercise on cluster \(exerciseConfig.cluster.name)",
                detail: "running against a real cluster is not built yet; this release runs the exercise only with --simulate",
                hint: "run `longhorn-dr exercise --simulate` to see the whole flow, and `longhorn-dr config validate` for your config")
        }
        let stateDirectory = FileJournalStore.stateDirectory(configured: exerciseConfig.stateDirectory)
        let runFolder = simulateWorkRoot()
        let journal = FileJournalStore(path: stateDirectory.appendingPathComponent("exercise-\(exerciseConfig.cluster.name)\(simulate ? "-simulated" : "").journal.json"))
        let environment = SimulatedExerciseEnvironment(config: exerciseConfig, personality: LonghornPersonality(longhornVersion) ?? .default,
            workRoot: runFolder, fault: simulateFault, log: Terminal.note)
        Terminal.note("DR exercise on the simulated cluster (Longhorn \(longhornVersion)); journal \(journal.path.path)")
        let runner = ExerciseRunner(config: exerciseConfig, environment: environment, journalStore: journal,
            options: .init(resume: resume, confirmedDestroy: yes || simulate), log: Terminal.note)
        let report: ExerciseReport
        do {
            report = try await runner.run()
            await environment.shutdown()
        } catch {
            await environment.shutdown()
            throw error
        }
        try? FileManager.default.removeItem(at: runFolder)
        print(report.consoleText())
        let folder = reportDir.map { URL(fileURLWithPath: ($0 as NSString).expandingTildeInPath) }
            ?? exerciseConfig.report.directory.map { URL(fileURLWithPath: ($0 as NSString).expandingTildeInPath) }
            ?? stateDirectory.appendingPathComponent("reports")
        let files = try ReportWriter.write(report, formats: exerciseConfig.report.formats, to: folder)
        for file in files { Terminal.note("report: \(file.path)") }
        if report.exitStatus != .ok { throw ExitStatusError(status: report.exitStatus) }
    }

    private func simulateWorkRoot() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("longhorn-dr-exercise-\(UUID().uuidString.prefix(8))")
    }
}

extension SimulatedExerciseEnvironment.Fault: ExpressibleByArgument {}
