export { GovernanceAgentConfig, governanceAgentService } from './governance-agent.service';
export { nextWeeklyRun, parseWeeklySchedule, type WeeklySchedule } from './schedule/weekly-schedule';
