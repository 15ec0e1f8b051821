export {createKeyWrapper} from './transit.js'
