export {createKeyWrapper} from './kms.js'
