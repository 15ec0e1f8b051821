export {execute} from '@oclif/core/execute'
