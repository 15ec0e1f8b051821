export {createKeyWrapper} from './keys.js'
